package plan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/internal/traffic"
)

func nsRelease() NamespaceRelease {
	r := NamespaceRelease{Kind: NamespaceKind, Product: "payments",
		Namespaces: map[Color]string{Blue: "payments-blue", Green: "payments-green"},
		Services: []NamespaceService{
			{Name: "payment", Image: "registry.example.com/payment:2.0.0"},
			{Name: "user-login"},
			{Name: "user-profile", Image: "registry.example.com/user-profile:2.0.0"},
		},
		Gateway: json.RawMessage(`{"router": "nginx"}`)}
	r.Defaults()
	return r
}

func nsObserved(active Color) NamespaceObserved {
	obs := NamespaceObserved{Active: active, Deployments: map[Color]map[string]*DeploymentInfo{Blue: {}, Green: {}}}
	for _, c := range []Color{Blue, Green} {
		for _, s := range []string{"payment", "user-login", "user-profile"} {
			n := int32(3)
			if c != active {
				n = 0
			}
			obs.Deployments[c][s] = &DeploymentInfo{Name: s, Replicas: n, Containers: []ContainerInfo{{Name: s, Image: "registry.example.com/" + s + ":1.0.0"}}}
		}
	}
	return obs
}

func TestNamespaceReleaseValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*NamespaceRelease)
		want   string
	}{
		{"valid", func(*NamespaceRelease) {}, ""},
		{"wrong kind", func(r *NamespaceRelease) { r.Kind = "Migration" }, "kind"},
		{"one namespace", func(r *NamespaceRelease) { delete(r.Namespaces, Green) }, "one per color"},
		{"same namespace twice", func(r *NamespaceRelease) { r.Namespaces[Green] = "payments-blue" }, "want two namespaces"},
		{"no service", func(r *NamespaceRelease) { r.Services = nil }, "at least one"},
		{"service twice", func(r *NamespaceRelease) { r.Services = append(r.Services, NamespaceService{Name: "payment"}) }, "listed twice"},
		{"no new image", func(r *NamespaceRelease) { r.Services = []NamespaceService{{Name: "payment"}} }, "no service has an image"},
		{"bad image", func(r *NamespaceRelease) { r.Services[0].Image = "Registry/Payment:2!" }, "services[0] (payment)"},
		{"no gateway", func(r *NamespaceRelease) { r.Gateway = nil }, "gateway: required"},
		{"bad approval", func(r *NamespaceRelease) { r.Approval = "later" }, "approval"},
		{"a watch window", func(r *NamespaceRelease) { r.WatchWindow = Duration(60e9) }, "does not run checks yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := nsRelease()
			tt.mutate(&r)
			err := r.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want ErrInvalid naming %q", err, tt.want)
			}
		})
	}
}

// A release rolls every service out in the idle namespace, one lane per
// service, then checks, approves, rescales, and switches the gateways in
// one step; the old namespace is scaled down only when asked.
func TestNamespaceDeploy(t *testing.T) {
	rel := nsRelease()
	target := traffic.Target{Name: "payments"}
	steps, err := NamespaceDeploy(nsObserved(Blue), rel, "nginx", target)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	lanes := map[string]string{}
	for _, s := range steps {
		names = append(names, s.Name)
		lanes[s.Name] = s.Lane
	}
	want := "set-image/payment,scale-idle/payment,wait-rollout/payment," +
		"scale-idle/user-login,wait-rollout/user-login," +
		"set-image/user-profile,scale-idle/user-profile,wait-rollout/user-profile," +
		"approve,rescale-idle/payment,rescale-idle/user-login,rescale-idle/user-profile,switch"
	if got := strings.Join(names, ","); got != want {
		t.Fatalf("steps:\n got %s\nwant %s", got, want)
	}
	if lanes["set-image/payment"] != "svc/payment" || lanes["wait-rollout/user-profile"] != "svc/user-profile" || lanes["switch"] != "" {
		t.Fatalf("lanes = %v", lanes)
	}
	var sw GatewaySwitchParams
	if err := steps[len(steps)-1].DecodeParams(&sw); err != nil {
		t.Fatal(err)
	}
	if sw.From != Blue || sw.To != Green || sw.Router != "nginx" || sw.Target.Name != "payments" {
		t.Fatalf("switch params = %+v", sw)
	}
	var sc ScaleParams
	if err := steps[1].DecodeParams(&sc); err != nil || sc.Namespace != "payments-green" || sc.FromNS() != "payments-blue" || sc.FromActive != "payment" {
		t.Fatalf("scale-idle params = %+v, %v; want the idle namespace scaled to the active namespace's count", sc, err)
	}
	var si SetImageParams
	if err := steps[0].DecodeParams(&si); err != nil || si.Namespace != "payments-green" || si.Image != "registry.example.com/payment:2.0.0" {
		t.Fatalf("set-image params = %+v, %v; want the new image in the idle namespace", si, err)
	}

	// From green, with a scale-down and checks with a watch window.
	rel.KeepWarm = new(int32)
	steps, err = NamespaceDeploy(nsObserved(Green), rel, "nginx", target)
	if err != nil {
		t.Fatal(err)
	}
	last := steps[len(steps)-1]
	var down ScaleDownParams
	if err := last.DecodeParams(&down); err != nil || last.Kind != KindScaleDown || down.Namespace != "payments-green" {
		t.Fatalf("last step %s %s, want the old namespace payments-green scaled down", last.Name, last.Params)
	}
}

func TestNamespaceDeployRefusesWhatItCannotDo(t *testing.T) {
	missingIdle := nsObserved(Blue)
	delete(missingIdle.Deployments[Green], "user-login")
	tests := []struct {
		name string
		obs  NamespaceObserved
		want string
	}{
		{"no active color", NamespaceObserved{}, "namespace init"},
		{"a service missing in the idle namespace", missingIdle, "no Deployment user-login in namespace payments-green (the idle color, green)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NamespaceDeploy(tt.obs, nsRelease(), "nginx", traffic.Target{})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalid naming %q", err, tt.want)
			}
		})
	}
}

// init creates in the idle namespace only the services it lacks, then
// adopts the gateways with production where it is.
func TestNamespaceInit(t *testing.T) {
	obs := nsObserved(Blue)
	delete(obs.Deployments[Green], "payment")
	steps, err := NamespaceInit(obs, nsRelease(), Blue, "nginx", traffic.Target{Name: "payments"})
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[0].Name != "copy/payment" || steps[1].Kind != KindGatewayAdopt {
		t.Fatalf("steps = %v", steps)
	}
	var adopt GatewaySwitchParams
	if err := steps[1].DecodeParams(&adopt); err != nil || adopt.To != Blue || adopt.From != Green {
		t.Fatalf("adopt params = %+v, %v; want production kept on blue", adopt, err)
	}
	if _, err := NamespaceInit(nsObserved(Blue), nsRelease(), Green, "nginx", traffic.Target{}); err != nil {
		t.Fatalf("init with green active (both namespaces full): %v", err)
	}
	empty := nsObserved(Blue)
	empty.Deployments[Blue] = map[string]*DeploymentInfo{}
	if _, err := NamespaceInit(empty, nsRelease(), Blue, "nginx", traffic.Target{}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "serves production (--active blue)") {
		t.Fatalf("init with the services missing where production is: %v", err)
	}
}
