package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BlueGreenRelease declares the release of one app in its namespace at
// Service scope: the app runs as Deployments APP-blue and APP-green
// (`bluegreen init` makes that layout) behind the active Service, which
// selects one color, and the preview Service, which selects the other.
// Changing spec.image starts a release: the idle color gets the image,
// rolls out, is checked through the preview Service, is approved, takes
// production, is watched, and the old color is scaled down as asked. A
// failure at any step rolls back.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=bgrel,categories=bluegreen
// +kubebuilder:printcolumn:name="Image",type=string,JSONPath=`.spec.image`
// +kubebuilder:printcolumn:name="Active",type=string,JSONPath=`.status.activeColor`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Step",type=string,JSONPath=`.status.currentStep`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 52",message="the name is the app's: at most 52 characters, so that APP-preview and the Deployments' ReplicaSets stay within Kubernetes' limits"
type BlueGreenRelease struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BlueGreenReleaseSpec   `json:"spec"`
	Status BlueGreenReleaseStatus `json:"status,omitempty"`
}

// BlueGreenReleaseSpec is the release wanted. The app is the object's
// name.
//
// +kubebuilder:validation:XValidation:rule="!has(self.keepWarm) || has(self.scaleDownDelay)",message="keepWarm needs scaleDownDelay: the old color is scaled down to keepWarm that long after the switch"
// +kubebuilder:validation:XValidation:rule="!has(self.watchWindow) || duration(self.watchWindow) == duration('0s') || (has(self.checks) && size(self.checks) > 0)",message="watchWindow re-runs the checks after the switch: give at least one check"
type BlueGreenReleaseSpec struct {
	// Image is the image the app should run, e.g.
	// registry.example.com/shop:1.4.2. A change starts a release.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="!self.contains(' ')",message="an image reference has no spaces"
	Image string `json:"image"`
	// Container is the container whose image changes; empty means the
	// Deployment's only container.
	// +optional
	Container string `json:"container,omitempty"`
	// ColorLabel is the pod label key that holds the color.
	// +kubebuilder:default=track
	// +optional
	ColorLabel string `json:"colorLabel,omitempty"`
	// ActiveService serves production; empty means the app's name.
	// +optional
	ActiveService string `json:"activeService,omitempty"`
	// PreviewService serves the idle color; empty means APP-preview.
	// +optional
	PreviewService string `json:"previewService,omitempty"`
	// PreviewURL is where the checks reach the preview Service, e.g.
	// http://shop-preview.prod.svc; an http check's path is appended to it.
	// +optional
	PreviewURL string `json:"previewURL,omitempty"`
	// RolloutTimeout bounds the wait for the idle color's rollout.
	// +kubebuilder:default="5m"
	// +optional
	RolloutTimeout *metav1.Duration `json:"rolloutTimeout,omitempty"`
	// Checks run against the preview before the switch, and again through
	// production during the watch window.
	// +kubebuilder:validation:MaxItems=16
	// +listType=map
	// +listMapKey=name
	// +optional
	Checks []Check `json:"checks,omitempty"`
	// Approval is Auto (switch once the checks pass) or Manual (wait at the
	// switch until the object is annotated bluegreen.dev/promote, or
	// someone runs `bluegreen promote`).
	// +kubebuilder:validation:Enum=Auto;Manual
	// +kubebuilder:default=Auto
	// +optional
	Approval Approval `json:"approval,omitempty"`
	// WatchWindow re-runs the checks through production this long after
	// the switch; a failure switches back.
	// +optional
	WatchWindow *metav1.Duration `json:"watchWindow,omitempty"`
	// ScaleDownDelay scales the old color down to KeepWarm replicas this
	// long after the switch; unset keeps it at full size until the next
	// release, so that a rollback is instant.
	// +optional
	ScaleDownDelay *metav1.Duration `json:"scaleDownDelay,omitempty"`
	// KeepWarm is how many replicas the old color keeps after
	// ScaleDownDelay (default 0).
	// +kubebuilder:validation:Minimum=0
	// +optional
	KeepWarm *int32 `json:"keepWarm,omitempty"`
}

// Approval says who lets a release switch production.
type Approval string

// Approval modes.
const (
	ApprovalAuto   Approval = "Auto"
	ApprovalManual Approval = "Manual"
)

// Check is one check of a release; exactly one kind is set. There is no
// smoke kind here: a command would run inside the controller, as the
// controller, for anyone who may create a BlueGreenRelease.
//
// +kubebuilder:validation:XValidation:rule="[has(self.http), has(self.webhook)].filter(x, x).size() == 1",message="set exactly one of http and webhook"
type Check struct {
	// Name names the check in the run record and in Events.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// +optional
	HTTP *HTTPCheck `json:"http,omitempty"`
	// +optional
	Webhook *WebhookCheck `json:"webhook,omitempty"`
}

// HTTPCheck requests a URL until it answers as expected.
type HTTPCheck struct {
	// URL is absolute (http or https), or a path such as /healthz sent to
	// spec.previewURL (and during the watch window to the active Service).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/') || self.startsWith('http://') || self.startsWith('https://')",message="want a /path or an absolute http(s) URL"
	URL string `json:"url"`
	// ExpectStatus passes on this status code; 0 means any 2xx.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=599
	// +optional
	ExpectStatus int32 `json:"expectStatus,omitempty"`
	// BodyContains must occur in the response body.
	// +optional
	BodyContains string `json:"bodyContains,omitempty"`
	// Retries is the number of attempts (default 5).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	Retries int32 `json:"retries,omitempty"`
	// Interval is the wait between attempts.
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`
	// Timeout bounds each attempt.
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// HeadersFrom names a Secret in the release's namespace whose keys
	// and values are sent as request headers: header values are often
	// credentials, and never belong in the object.
	// +optional
	HeadersFrom *LocalSecretReference `json:"headersFrom,omitempty"`
}

// WebhookCheck asks an external system (a load test, a canary analysis)
// whether the release may go on.
type WebhookCheck struct {
	// URLFrom is the Secret key that holds the URL: webhook URLs carry
	// tokens.
	URLFrom SecretKeyReference `json:"urlFrom"`
	// Timeout bounds the request.
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// LocalSecretReference names a Secret in the release's namespace.
type LocalSecretReference struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// SecretKeyReference names one key of a Secret in the release's
// namespace.
type SecretKeyReference struct {
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// Phase is where a release stands.
type Phase string

// Phases.
const (
	// PhaseIdle: the active color runs spec.image; nothing to do.
	PhaseIdle Phase = "Idle"
	// PhaseProgressing: a run is carrying out the release.
	PhaseProgressing Phase = "Progressing"
	// PhasePaused: the run waits for approval at the switch.
	PhasePaused Phase = "Paused"
	// PhaseRolledBack: the last run failed and was rolled back; a new
	// image starts the next.
	PhaseRolledBack Phase = "RolledBack"
	// PhaseFailed: the last run stopped and needs a person (see the
	// Ready condition's message).
	PhaseFailed Phase = "Failed"
)

// BlueGreenReleaseStatus is what the controller observed and did.
type BlueGreenReleaseStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	Phase Phase `json:"phase,omitempty"`
	// ActiveColor is the color the active Service selects.
	// +optional
	ActiveColor string `json:"activeColor,omitempty"`
	// ActiveImage is the image the active color runs.
	// +optional
	ActiveImage string `json:"activeImage,omitempty"`
	// CurrentStep is the step the run is at, e.g. wait-rollout.
	// +optional
	CurrentStep string `json:"currentStep,omitempty"`
	// LastRun is the newest run for this app: the same BlueGreenRun record
	// `bluegreen status` and every other command read.
	// +optional
	LastRun *RunReference `json:"lastRun,omitempty"`
	// Conditions: Ready (the active color runs spec.image and is
	// serving), Progressing, and Degraded with the last failure.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// RunReference names a run and says where it stands.
type RunReference struct {
	// ID is the run's id (its BlueGreenRun is named after it).
	ID string `json:"id"`
	// Operation is deploy, init, …
	Operation string `json:"operation"`
	// State is the run's state: running, paused, succeeded, rolled-back, …
	State string `json:"state"`
	// Image is the image the run released.
	// +optional
	Image string `json:"image,omitempty"`
}

// BlueGreenReleaseList is a list of BlueGreenReleases.
//
// +kubebuilder:object:root=true
type BlueGreenReleaseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BlueGreenRelease `json:"items"`
}
