package plan

import (
	"time"

	"github.com/bluegreen/bluegreen/internal/check"
)

// Color is one of the two sides of a blue-green pair.
type Color string

// The two colors.
const (
	Blue  Color = "blue"
	Green Color = "green"
)

// Other returns the opposite color.
func (c Color) Other() Color {
	if c == Blue {
		return Green
	}
	return Blue
}

// Valid reports whether c is blue or green.
func (c Color) Valid() bool { return c == Blue || c == Green }

// ServiceObserved is what the cluster holds for one app, read before planning.
type ServiceObserved struct {
	Namespace       string
	NamespaceExists bool
	Active          *ServiceInfo // nil when the Service does not exist
	Preview         *ServiceInfo
	Deployments     map[Color]*DeploymentInfo // missing key: no such Deployment
}

// ServiceInfo describes a Service.
type ServiceInfo struct {
	Name     string
	Selector map[string]string
}

// DeploymentInfo describes one color's Deployment.
type DeploymentInfo struct {
	Name          string
	Replicas      int32 // spec.replicas
	ReadyReplicas int32
	Containers    []ContainerInfo
	HPA           *HPAInfo // the HPA scaling this Deployment, if any
}

// ContainerInfo is one container of a pod template.
type ContainerInfo struct {
	Name  string
	Image string
}

// HPAInfo names a HorizontalPodAutoscaler.
type HPAInfo struct {
	Name        string
	MinReplicas int32
	MaxReplicas int32
}

// ServiceRelease is the desired release, from flags and a spec file.
type ServiceRelease struct {
	App            string            `json:"app"`
	Namespace      string            `json:"namespace,omitempty"`
	Image          string            `json:"image"`
	Container      string            `json:"container,omitempty"`
	Env            map[string]string `json:"env,omitempty"`
	ColorLabel     string            `json:"colorLabel,omitempty"`
	ActiveService  string            `json:"activeService,omitempty"`
	PreviewService string            `json:"previewService,omitempty"`
	PreviewURL     string            `json:"previewURL,omitempty"`
	ActiveURL      string            `json:"activeURL,omitempty"`
	RolloutTimeout Duration          `json:"rolloutTimeout,omitempty"`
	Checks         []check.Spec      `json:"checks,omitempty"`
	WatchWindow    Duration          `json:"watchWindow,omitempty"`
	WatchInterval  Duration          `json:"watchInterval,omitempty"`
	// ScaleDownDelay and KeepWarm ask for the old color to be scaled down
	// to KeepWarm (default 0) replicas ScaleDownDelay after the switch. With
	// neither set it stays at full size until the next release, so that a
	// rollback moves traffic back at once.
	ScaleDownDelay Duration `json:"scaleDownDelay,omitempty"`
	KeepWarm       *int32   `json:"keepWarm,omitempty"`
	// Approval is "prompt" (ask on a TTY), "auto" (--yes) or "pause" (--pause).
	Approval string `json:"approval,omitempty"`
}

// Defaults fills what the user left empty.
func (r *ServiceRelease) Defaults() {
	if r.ColorLabel == "" {
		r.ColorLabel = "track"
	}
	if r.ActiveService == "" {
		r.ActiveService = r.App
	}
	if r.PreviewService == "" {
		r.PreviewService = r.App + "-preview"
	}
	releaseDefaults(&r.RolloutTimeout, &r.WatchInterval, &r.Approval)
}

// ScalesDown reports whether the release scales the old color down after
// the switch, and to how many replicas.
func (r ServiceRelease) ScalesDown() (bool, int32) { return scalesDown(r.KeepWarm, r.ScaleDownDelay) }

// scalesDown is a release's scale-down of the old color: none when neither
// keepWarm nor delay is set, else to keepWarm (default 0).
func scalesDown(keepWarm *int32, delay Duration) (bool, int32) {
	if keepWarm == nil && delay == 0 {
		return false, 0
	}
	if keepWarm == nil {
		return true, 0
	}
	return true, *keepWarm
}

// releaseDefaults fills a release's rollout timeout, watch interval and
// approval mode when they are empty.
func releaseDefaults(rollout, interval *Duration, approval *string) {
	if *rollout == 0 {
		*rollout = Duration(5 * time.Minute)
	}
	if *interval == 0 {
		*interval = Duration(10 * time.Second)
	}
	if *approval == "" {
		*approval = "prompt"
	}
}

// DeploymentName is the Deployment of one color of app.
func DeploymentName(app string, c Color) string { return app + "-" + string(c) }
