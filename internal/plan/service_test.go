package plan

import (
	"errors"
	"strings"
	"testing"
)

func observed() ServiceObserved {
	return ServiceObserved{
		Namespace: "prod", NamespaceExists: true,
		Active:  &ServiceInfo{Name: "shop", Selector: map[string]string{"app": "shop", "track": "blue"}},
		Preview: &ServiceInfo{Name: "shop-preview", Selector: map[string]string{"app": "shop", "track": "green"}},
		Deployments: map[Color]*DeploymentInfo{
			Blue:  {Name: "shop-blue", Replicas: 3, ReadyReplicas: 3, Containers: []ContainerInfo{{Name: "app", Image: "shop:1"}}},
			Green: {Name: "shop-green", Replicas: 0, Containers: []ContainerInfo{{Name: "app", Image: "shop:0"}}},
		},
	}
}

func release() ServiceRelease {
	r := ServiceRelease{App: "shop", Namespace: "prod", Image: "registry.example.com/shop:2", Approval: "auto"}
	r.Defaults()
	return r
}

func TestServiceDeployPlansTheRunbook(t *testing.T) {
	steps, err := ServiceDeploy(observed(), release())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range steps {
		names = append(names, s.Name)
	}
	want := "set-image,scale-idle,wait-rollout,approve,rescale-idle,switch"
	if got := strings.Join(names, ","); got != want {
		t.Fatalf("steps = %s, want %s", got, want)
	}
	var sw SwitchParams
	if err := steps[5].DecodeParams(&sw); err != nil || sw.From != Blue || sw.To != Green || sw.MinReadyFrom != "shop-blue" {
		t.Fatalf("switch params = %+v, %v", sw, err)
	}
	if m := steps[5].Mutations[0]; m.Object != "service/shop" || !strings.Contains(m.Change, "track=green") {
		t.Fatalf("switch mutation = %+v", m)
	}
}

// The old color stays at full size unless a scale-down is asked for, so a
// rollback is instant by default.
func TestServiceDeployScalesTheOldColorDownOnlyWhenAsked(t *testing.T) {
	one := int32(1)
	tests := []struct {
		name     string
		delay    Duration
		keepWarm *int32
		want     string // "" for no scale-down-old step
	}{
		{"default keeps the old color at full size", 0, nil, ""},
		{"a delay alone scales to 0", Duration(60e9), nil, "1m0s after the switch, scale the old color shop-blue to 0"},
		{"keep-warm alone scales right after the switch", 0, &one, "0s after the switch, scale the old color shop-blue to 1"},
		{"both", Duration(60e9), &one, "1m0s after the switch, scale the old color shop-blue to 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rel := release()
			rel.ScaleDownDelay, rel.KeepWarm = tt.delay, tt.keepWarm
			steps, err := ServiceDeploy(observed(), rel)
			if err != nil {
				t.Fatal(err)
			}
			last := steps[len(steps)-1]
			switch {
			case tt.want == "" && last.Kind == KindScaleDown:
				t.Fatalf("plan scales the old color down: %s", last.Description)
			case tt.want != "" && (last.Kind != KindScaleDown || last.Description != tt.want):
				t.Fatalf("last step %s %q, want scale-down-old %q", last.Name, last.Description, tt.want)
			}
		})
	}
}

// No env value is shown, whatever its key: DSN holds a password too.
func TestEnvValuesAreHiddenInThePlan(t *testing.T) {
	rel := release()
	rel.Env = map[string]string{"DB_PASSWORD": "hunter2-long", "LOG_LEVEL": "debug", "DSN": "postgres://u:dsnpass@db/shop"}
	steps, err := ServiceDeploy(observed(), rel)
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, m := range steps[0].Mutations {
		changes = append(changes, m.Change)
	}
	all := strings.Join(changes, "\n")
	if strings.Contains(all, "hunter2") || strings.Contains(all, "debug") || strings.Contains(all, "dsnpass") ||
		!strings.Contains(all, "env DB_PASSWORD, DSN, LOG_LEVEL (values hidden)") {
		t.Fatalf("set-image mutations:\n%s", all)
	}
}

func TestServiceDeployWithHPAAndChecks(t *testing.T) {
	obs := observed()
	obs.Deployments[Blue].HPA = &HPAInfo{Name: "shop-blue", MinReplicas: 2, MaxReplicas: 10}
	rel := release()
	rel.WatchWindow = Duration(60e9)
	rel.ScaleDownDelay = Duration(60e9)
	rel.Checks = nil
	steps, err := ServiceDeploy(obs, rel)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range steps {
		names = append(names, s.Name)
	}
	want := "set-image,scale-idle,wait-rollout,approve,rescale-idle,switch,mirror-hpa,hold-old-hpa,watch,scale-down-old"
	if got := strings.Join(names, ","); got != want {
		t.Fatalf("steps = %s, want %s (the autoscaler is mirrored only once the new color serves)", got, want)
	}
	last := steps[len(steps)-1]
	if !strings.Contains(last.Mutations[0].Object, "horizontalpodautoscaler/shop-blue") {
		t.Fatalf("scale-down must remove the old color's autoscaler first: %+v", last.Mutations)
	}
	// An idle color that still has an autoscaler (kept from an earlier
	// release) is held before anything else and gets the active spec at the switch.
	obs.Deployments[Green].HPA = &HPAInfo{Name: "shop-green", MinReplicas: 3, MaxReplicas: 10}
	steps, err = ServiceDeploy(obs, rel)
	if err != nil {
		t.Fatal(err)
	}
	if steps[0].Name != "hold-idle-hpa" || steps[7].Name != "mirror-hpa" || !strings.Contains(steps[7].Mutations[0].Change, "spec as shop-blue's") {
		t.Fatalf("idle autoscaler not held first or not mirrored after the switch: %s, %s %+v", steps[0].Name, steps[7].Name, steps[7].Mutations)
	}
}

func TestServiceDeployRejectsBadInput(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*ServiceObserved, *ServiceRelease)
		want   string
	}{
		{"missing namespace", func(o *ServiceObserved, _ *ServiceRelease) { o.NamespaceExists = false }, `namespace "prod" does not exist`},
		{"missing active service", func(o *ServiceObserved, _ *ServiceRelease) { o.Active = nil }, "active Service prod/shop not found"},
		{"missing preview service", func(o *ServiceObserved, _ *ServiceRelease) { o.Preview = nil }, "preview Service not found"},
		{"selector matches neither color", func(o *ServiceObserved, _ *ServiceRelease) { o.Active.Selector["track"] = "canary" }, `matches neither color`},
		{"same color", func(o *ServiceObserved, _ *ServiceRelease) { o.Preview.Selector["track"] = "blue" }, "both select track=blue"},
		{"active has zero ready pods", func(o *ServiceObserved, _ *ServiceRelease) { o.Deployments[Blue].ReadyReplicas = 0 }, "zero ready pods"},
		{"missing color deployment", func(o *ServiceObserved, _ *ServiceRelease) { delete(o.Deployments, Green) }, "Deployment prod/shop-green not found"},
		{"invalid image", func(_ *ServiceObserved, r *ServiceRelease) { r.Image = "Shop:Latest!" }, "not a valid image reference"},
		{"empty image", func(_ *ServiceObserved, r *ServiceRelease) { r.Image = "" }, "no image given"},
		{"unknown container", func(_ *ServiceObserved, r *ServiceRelease) { r.Container = "sidecar" }, `no container "sidecar"`},
		{"negative keep-warm", func(_ *ServiceObserved, r *ServiceRelease) { r.KeepWarm = new(int32); *r.KeepWarm = -1 }, "keepWarm -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs, rel := observed(), release()
			tt.mutate(&obs, &rel)
			_, err := ServiceDeploy(obs, rel)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestValidateImage(t *testing.T) {
	for _, ok := range []string{"nginx", "nginx:1.27", "registry.example.com:5000/team/app:v2-rc.1", "app@sha256:" + strings.Repeat("a", 64), "localhost/a_b/c-d:x"} {
		if err := ValidateImage(ok); err != nil {
			t.Errorf("ValidateImage(%q) = %v, want ok", ok, err)
		}
	}
	for _, bad := range []string{"", "UPPER/app", "app:", "app::1", "-app", "app:tag with space", "app@sha256:xyz"} {
		if err := ValidateImage(bad); err == nil {
			t.Errorf("ValidateImage(%q) = nil, want error", bad)
		}
	}
}

func TestServiceInit(t *testing.T) {
	obs := InitObserved{Namespace: "prod", NamespaceExists: true,
		Original:       &DeploymentInfo{Name: "web", Replicas: 2, ReadyReplicas: 2},
		OriginalLabels: map[string]string{"app": "web"},
		Active:         &ServiceInfo{Name: "web", Selector: map[string]string{"app": "web"}},
		Colors:         map[Color]*DeploymentInfo{}}
	o := InitOptions{App: "web", Deployment: "web", ActiveService: "web", PreviewService: "web-preview", ColorLabel: "track"}
	steps, err := ServiceInit(obs, o)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range steps {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "create-blue,wait-blue,create-green,create-preview,narrow-active,retire-original" {
		t.Fatalf("init steps = %s", got)
	}
	obs.Active.Selector = map[string]string{"app": "web", "track": "blue"}
	obs.Preview = &ServiceInfo{Name: "web-preview"}
	obs.Colors[Blue], obs.Colors[Green] = &DeploymentInfo{}, &DeploymentInfo{}
	if _, err := ServiceInit(obs, o); !errors.Is(err, ErrAlreadyInitialized) {
		t.Fatalf("second init error = %v, want ErrAlreadyInitialized", err)
	}
}
