package plan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/journal"
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
		{"a watch window", func(r *NamespaceRelease) { r.WatchWindow = Duration(60e9) }, ""},
		{"a product check without a kind", func(r *NamespaceRelease) { r.Checks = []check.Spec{{Name: "login"}} }, `checks[0]: check "login": none of http`},
		{"a service check without a name", func(r *NamespaceRelease) {
			r.Services[1].Checks = []check.Spec{{HTTP: &check.HTTPConfig{URL: "/healthz"}}}
		}, "services[1] (user-login).checks[0]: check spec: name is required"},
		{"a negative watch window", func(r *NamespaceRelease) { r.WatchWindow = Duration(-1) }, "must not be negative"},
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
	rel.Services[0].Checks = []check.Spec{{Name: "healthz", HTTP: &check.HTTPConfig{URL: "/payment/healthz"}}}
	rel.Checks = []check.Spec{{Name: "login-flow", Smoke: &check.SmokeConfig{Script: "true"}}}
	rel.WatchWindow = Duration(5 * time.Minute)
	target.Entrances = []traffic.Entrance{{Name: "gw-1", Address: "10.0.0.5:80"}, {Name: "gw-2", Address: "10.0.0.6:80"}}
	target.Hosts = map[string]string{traffic.HostProd: "myapp.com", traffic.HostPreprod: "preprod.myapp.com"}
	steps, err = NamespaceDeploy(nsObserved(Green), rel, "nginx", target)
	if err != nil {
		t.Fatal(err)
	}
	names = nil
	byName := map[string]*journal.Step{}
	for i, s := range steps {
		names = append(names, s.Name)
		byName[s.Name] = &steps[i]
	}
	want = "set-image/payment,scale-idle/payment,wait-rollout/payment,check-preprod/payment," +
		"scale-idle/user-login,wait-rollout/user-login," +
		"set-image/user-profile,scale-idle/user-profile,wait-rollout/user-profile," +
		"check-preprod,approve,rescale-idle/payment,rescale-idle/user-login,rescale-idle/user-profile,switch,watch," +
		"scale-down-old/payment,scale-down-old/user-login,scale-down-old/user-profile"
	if got := strings.Join(names, ","); got != want {
		t.Fatalf("steps with checks:\n got %s\nwant %s", got, want)
	}
	var ck NamespaceChecksParams
	if err := byName["check-preprod/payment"].DecodeParams(&ck); err != nil || ck.Namespace != "payments-blue" || ck.Color != Blue ||
		ck.Host != "preprod.myapp.com" || len(ck.Entrances) != 2 || strings.Join(ck.Services, ",") != "payment" || ck.ProductChecks || ck.Phase != "preview" {
		t.Fatalf("check-preprod/payment params = %+v, %v; want payment's checks in the idle namespace through the preprod host on both gateways", ck, err)
	}
	if byName["check-preprod/payment"].Lane != "svc/payment" || byName["check-preprod"].Lane != "" {
		t.Fatalf("a service's checks run in its lane, the product's after every lane")
	}
	var w NamespaceWatchParams
	if err := byName["watch"].DecodeParams(&w); err != nil || w.Host != "myapp.com" || w.Color != Blue || !w.ProductChecks ||
		len(w.Services) != 3 || w.Window != rel.WatchWindow || w.Interval != rel.WatchInterval || w.Phase != "watch" {
		t.Fatalf("watch params = %+v, %v; want every check against production on blue for 5m", w, err)
	}
	last := steps[len(steps)-1]
	var down ScaleDownParams
	if err := last.DecodeParams(&down); err != nil || last.Kind != KindScaleDown || down.Namespace != "payments-green" {
		t.Fatalf("last step %s %s, want the old namespace payments-green scaled down", last.Name, last.Params)
	}

	// A path check needs a gateway address to go to.
	target.Entrances = nil
	if _, err := NamespaceDeploy(nsObserved(Green), rel, "nginx", target); !errors.Is(err, ErrInvalid) ||
		!strings.Contains(err.Error(), "services[0] (payment).checks[0] (healthz): url /payment/healthz is a path") {
		t.Fatalf("path check without entrances: %v", err)
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
