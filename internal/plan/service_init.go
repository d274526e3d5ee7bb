package plan

import (
	"fmt"
	"time"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// Step kinds of `init`.
const (
	KindCopyDeployment = "copy-deployment"
	KindCreatePreview  = "create-preview"
	KindNarrowActive   = "narrow-active"
	KindRetire         = "retire-original"
)

// InitObserved is what `init` reads before planning.
type InitObserved struct {
	Namespace       string
	NamespaceExists bool
	Original        *DeploymentInfo   // the Deployment serving the app today
	OriginalLabels  map[string]string // its pod template labels
	Active          *ServiceInfo
	Preview         *ServiceInfo
	Colors          map[Color]*DeploymentInfo
}

// InitOptions names the objects `init` starts from.
type InitOptions struct {
	App, Deployment, ActiveService, PreviewService, ColorLabel string
}

// CopyParams creates one color's Deployment as a copy of the original.
type CopyParams struct {
	Target
	From       string `json:"from"`
	ColorLabel string `json:"colorLabel"`
	Replicas   int32  `json:"replicas"`
	FromActive bool   `json:"fromOriginalReplicas"`
}

// ServiceParams names a Service and the selector it should get.
type ServiceParams struct {
	Namespace  string            `json:"namespace"`
	Service    string            `json:"service"`
	From       string            `json:"from,omitempty"`
	Selector   map[string]string `json:"selector"`
	ColorLabel string            `json:"colorLabel"`
	App        string            `json:"app"`
}

// ErrAlreadyInitialized means the blue/green layout is already in place.
var ErrAlreadyInitialized = fmt.Errorf("already initialized")

// ServiceInit plans the move from one Deployment behind one Service to the
// blue/green layout without dropping a request: blue starts as a copy of the
// original and becomes Ready while the Service still selects both, then the
// Service narrows to blue, then the original scales to zero.
func ServiceInit(obs InitObserved, o InitOptions) ([]journal.Step, error) {
	if !obs.NamespaceExists {
		return nil, invalid("namespace %q does not exist (check -n/--namespace)", obs.Namespace)
	}
	if obs.Active == nil {
		return nil, invalid("app %q: Service %s/%s not found (set --service to the Service that receives its traffic)", o.App, obs.Namespace, o.ActiveService)
	}
	if c := Color(obs.Active.Selector[o.ColorLabel]); c.Valid() && obs.Preview != nil && obs.Colors[Blue] != nil && obs.Colors[Green] != nil {
		return nil, ErrAlreadyInitialized
	}
	if obs.Original == nil {
		return nil, invalid("app %q: Deployment %s/%s not found (set --deployment to the Deployment that runs it today)", o.App, obs.Namespace, o.Deployment)
	}
	if len(obs.Active.Selector) == 0 {
		return nil, invalid("Service %s/%s has no selector: bluegreen switches traffic by selector", obs.Namespace, obs.Active.Name)
	}
	for k, v := range obs.Active.Selector {
		if obs.OriginalLabels[k] != v {
			return nil, invalid("Service %s/%s selects %s=%s but Deployment %s's pods are not labelled so: pick the Deployment behind the Service with --deployment",
				obs.Namespace, obs.Active.Name, k, v, obs.Original.Name)
		}
	}
	if obs.Original.ReadyReplicas == 0 {
		return nil, invalid("Deployment %s/%s has zero ready pods: fix it before init", obs.Namespace, obs.Original.Name)
	}
	ns := obs.Namespace
	blue, green := DeploymentName(o.App, Blue), DeploymentName(o.App, Green)
	narrowed := with(obs.Active.Selector, o.ColorLabel, string(Blue))
	preview := with(obs.Active.Selector, o.ColorLabel, string(Green))
	var steps []journal.Step
	if obs.Colors[Blue] == nil {
		steps = append(steps, step("create-blue", KindCopyDeployment,
			fmt.Sprintf("Create %s as a copy of %s (%d replicas, pods labelled %s=blue)", blue, obs.Original.Name, obs.Original.Replicas, o.ColorLabel),
			CopyParams{Target: Target{Namespace: ns, Deployment: blue, Color: Blue}, From: obs.Original.Name, ColorLabel: o.ColorLabel, FromActive: true},
			mut("deployment/"+blue, "create, %d replicas", obs.Original.Replicas)))
	}
	steps = append(steps, step("wait-blue", KindWaitRollout, fmt.Sprintf("Wait until %s is rolled out and Ready", blue),
		WaitRolloutParams{Target: Target{Namespace: ns, Deployment: blue, Color: Blue}, Timeout: Duration(5 * time.Minute)}))
	if obs.Colors[Green] == nil {
		steps = append(steps, step("create-green", KindCopyDeployment,
			fmt.Sprintf("Create %s as a copy of %s at 0 replicas (pods labelled %s=green)", green, obs.Original.Name, o.ColorLabel),
			CopyParams{Target: Target{Namespace: ns, Deployment: green, Color: Green}, From: obs.Original.Name, ColorLabel: o.ColorLabel, Replicas: 0},
			mut("deployment/"+green, "create, 0 replicas")))
	}
	if obs.Preview == nil {
		steps = append(steps, step("create-preview", KindCreatePreview,
			fmt.Sprintf("Create preview Service %s selecting %s", o.PreviewService, selectorString(preview)),
			ServiceParams{Namespace: ns, Service: o.PreviewService, From: obs.Active.Name, Selector: preview, ColorLabel: o.ColorLabel, App: o.App},
			mut("service/"+o.PreviewService, "create, selector %s", selectorString(preview))))
	}
	steps = append(steps,
		step("narrow-active", KindNarrowActive,
			fmt.Sprintf("Narrow Service %s to the blue pods", obs.Active.Name),
			ServiceParams{Namespace: ns, Service: obs.Active.Name, Selector: narrowed, ColorLabel: o.ColorLabel, App: o.App},
			mut("service/"+obs.Active.Name, "selector %s → %s", selectorString(obs.Active.Selector), selectorString(narrowed))),
		step("retire-original", KindRetire,
			fmt.Sprintf("Scale the original %s to 0 (the Deployment is kept; %s now runs its pods)", obs.Original.Name, blue),
			ScaleParams{Target: Target{Namespace: ns, Deployment: obs.Original.Name}, Replicas: 0},
			mut("deployment/"+obs.Original.Name, "spec.replicas %d → 0", obs.Original.Replicas)),
	)
	return steps, nil
}
