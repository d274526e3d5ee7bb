package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/runstore"
)

// secretPath looks like a Slack webhook's secret part.
const secretPath = "/services/T0001/B0001/Zq8secretWebhookToken42"

// webhookServer records what notifications and webhook checks receive.
type webhookServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newWebhookServer(t *testing.T) *webhookServer {
	w := &webhookServer{}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		w.bodies = append(w.bodies, r.URL.Path+" "+string(b))
		w.mu.Unlock()
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhookServer) received() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.bodies, "\n")
}

func TestSpecFileHPAAuditEventsAndNotifications(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	hooks := newWebhookServer(t)
	// Given shop on blue with an autoscaler, and a release spec file whose
	// webhook check and notification URLs carry secrets
	e.givenBlueGreenApp("shop", v1, 3)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-blue", Namespace: e.ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "shop-blue"},
			MinReplicas:    ptr.To[int32](2), MaxReplicas: 6,
		},
	}
	if _, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(e.ns).Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(t.TempDir(), "release.yaml")
	body := "apiVersion: bluegreen.io/v1alpha1\nkind: ServiceRelease\napp: shop\nimage: " + v2 + "\n" +
		"env: {FEATURE_X: \"on\", API_TOKEN: \"Zq8secretEnvValue77\"}\n" +
		"checks:\n- name: qa-gate\n  webhook: {url: \"" + hooks.URL + secretPath + "/check\"}\n"
	if err := os.WriteFile(spec, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	// When the release runs from the file
	notifyURL := hooks.URL + secretPath
	r := e.mustCLI("deploy", "-f", spec, "--yes", "--keep-warm", "0", "--notify-webhook", notifyURL)

	// Then green got v2, the env var and an autoscaler like blue's, and blue's went away
	if s := e.state("shop"); s.ActiveSelects != "green" || s.GreenImage != v2 || s.GreenReplicas != 3 {
		t.Fatalf("after deploy: %+v", s)
	}
	green, err := e.kube.AppsV1().Deployments(e.ns).Get(ctx, "shop-green", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if env := green.Spec.Template.Spec.Containers[0].Env; len(env) != 2 || env[1] != (corev1.EnvVar{Name: "FEATURE_X", Value: "on"}) {
		t.Fatalf("green env = %v", env)
	}
	if h, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(e.ns).Get(ctx, "shop-green", metav1.GetOptions{}); err != nil || h.Spec.ScaleTargetRef.Name != "shop-green" || h.Spec.MaxReplicas != 6 {
		t.Fatalf("green autoscaler: %v %+v", err, h)
	}
	if _, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(e.ns).Get(ctx, "shop-blue", metav1.GetOptions{}); err == nil {
		t.Fatal("blue's autoscaler still exists after the scale-down")
	}
	// And the webhook check and the notifications were called
	got := hooks.received()
	for _, want := range []string{secretPath + "/check", `"phase":"preview"`, "started", "promoted"} {
		if !strings.Contains(got, want) {
			t.Fatalf("webhooks received no %q:\n%s", want, got)
		}
	}
	// And Events were recorded on the objects touched
	evs, err := e.kube.CoreV1().Events(e.ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=shop"})
	if err != nil || len(evs.Items) == 0 || evs.Items[0].Reason != "BlueGreenStep" {
		t.Fatalf("events on service/shop: %v %+v", err, evs)
	}
	// …which kubectl shows: describe finds them by the object's UID
	green, err = e.kube.AppsV1().Deployments(e.ns).Get(ctx, "shop-green", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	desc := kubectl(t, "-n", e.ns, "describe", "deployment", "shop-green")
	if !strings.Contains(desc, "BlueGreenStep") || !strings.Contains(desc, "bluegreen") {
		t.Fatalf("kubectl describe deployment shop-green shows no Event of bluegreen's:\n%s", desc)
	}
	byUID := kubectl(t, "-n", e.ns, "get", "events", "--field-selector", "involvedObject.uid="+string(green.UID), "-o", "name")
	if strings.TrimSpace(byUID) == "" {
		t.Fatalf("kubectl get events --field-selector involvedObject.uid=%s found none", green.UID)
	}

	// When it is rolled back
	r2 := e.mustCLI("rollback", "shop", "--notify-webhook", notifyURL)
	// Then blue's autoscaler is back and green's is gone
	if h, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(e.ns).Get(ctx, "shop-blue", metav1.GetOptions{}); err != nil || ptr.Deref(h.Spec.MinReplicas, 0) != 2 {
		t.Fatalf("blue autoscaler after rollback: %v", err)
	}
	if _, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(e.ns).Get(ctx, "shop-green", metav1.GetOptions{}); err == nil {
		t.Fatal("green's autoscaler survived the rollback")
	}
	if !strings.Contains(hooks.received(), "rolled back") {
		t.Fatalf("no rolled-back notification:\n%s", hooks.received())
	}

	// And the secret never reached the output, the audit log or the Events
	audit, err := os.ReadFile(e.audit)
	if err != nil || len(audit) == 0 {
		t.Fatalf("audit log: %v (%d bytes)", err, len(audit))
	}
	evs, _ = e.kube.CoreV1().Events(e.ns).List(ctx, metav1.ListOptions{})
	evJSON, _ := json.Marshal(evs)
	status := e.mustCLI("status", "shop", "-o", "json")
	// Nor any object in the cluster but the app's own Deployment (the env
	// it was asked to set) and the run's Secret: the run records, Leases,
	// ConfigMaps, Services and autoscalers, JSON-encoded whole.
	objects := map[string]string{}
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, gvr := range []schema.GroupVersionResource{runstore.GVR, {Group: "coordination.k8s.io", Version: "v1", Resource: "leases"},
		{Version: "v1", Resource: "configmaps"}, {Version: "v1", Resource: "services"},
		{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}} {
		list, err := dyn.Resource(gvr).Namespace(e.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(list)
		objects[gvr.Resource] = string(js)
	}
	if !strings.Contains(objects["bluegreenruns"], "bluegreen.dev/secret:") {
		t.Fatalf("the run record holds no reference to its Secret:\n%s", objects["bluegreenruns"])
	}
	texts := map[string]string{"deploy output": r.stdout + r.stderr, "rollback output": r2.stdout + r2.stderr,
		"audit log": string(audit), "events": string(evJSON), "status": status.stdout}
	for k, v := range objects {
		texts[k] = v
	}
	for name, text := range texts {
		for _, secret := range []string{"Zq8secretWebhookToken42", "Zq8secretEnvValue77"} {
			if strings.Contains(text, secret) {
				t.Fatalf("secret %s leaked into the %s", secret, name)
			}
		}
	}
	var rec map[string]any
	first := strings.SplitN(string(audit), "\n", 2)[0]
	if err := json.Unmarshal([]byte(first), &rec); err != nil || rec["actor"] == "" || rec["run"] == "" {
		t.Fatalf("audit record lacks who/what: %s", first)
	}
}

// kubectl runs kubectl against the test bed and returns its output.
// kubectlIn is kubectl with in on its stdin.
func kubectlIn(t *testing.T, in string, args ...string) string {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", cluster.Kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("kubectl", append([]string{"--kubeconfig", cluster.Kubeconfig}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
