// Command namespace-demo runs the namespace scope's runbook on this
// machine: a local cluster with the payments product (payment, user-login,
// user-profile) in namespace blue, an empty namespace green, two real nginx
// gateways in front of each namespace's entry point (a stand-in ingress
// that answers with its namespace and the version its payment Deployment
// runs), and 200 requests a second through both gateways for myapp.com the
// whole time. It runs the bluegreen binary through init, plan, deploy with a
// check through preprod.myapp.com, promote, rollback and status, and prints
// the live request counter after each stage. Everything it starts is
// stopped when it ends.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/test/gatewaybed"
	"github.com/bluegreen/bluegreen/test/servicebed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

const (
	v1 = "registry.example.com/payment:1.0.0"
	v2 = "registry.example.com/payment:2.0.0"
)

var services = []string{"payment", "user-login", "user-profile"}

func main() {
	bin := flag.String("bluegreen", "bin/bluegreen", "the bluegreen binary")
	work := flag.String("work", ".cache/demo-namespace", "work folder (cluster, gateways, spec)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *bin, *work); err != nil {
		fmt.Fprintln(os.Stderr, "namespace demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin, work string) error {
	bin, _ = filepath.Abs(bin)
	work, _ = filepath.Abs(work)
	_ = os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(work, "cluster.log"))
	if err != nil {
		return err
	}
	defer logf.Close()

	section("Start a local Kubernetes cluster (real control plane, 3 simulated nodes)")
	c, err := testbed.Start(ctx, testbed.Options{Name: fmt.Sprintf("nsdemo-%d", os.Getpid()), Nodes: 3,
		WorkDir: filepath.Join(work, "cluster"), Logger: slog.New(slog.NewTextHandler(logf, nil))})
	if err != nil {
		return err
	}
	defer func() { _ = c.Stop(context.Background()) }()
	fmt.Println("cluster", c.Name, "is up")

	section("Install payments in namespace blue (payment, user-login, user-profile at 1.0.0); namespace green is empty")
	for _, ns := range []string{"blue", "green"} {
		if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	for _, s := range services {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := servicebed.InstallPlain(wctx, c.Client, "blue", s, strings.Replace(v1, "payment", s, 1), 2)
		cancel()
		if err != nil {
			return err
		}
	}

	section("Start each namespace's entry point, and two nginx gateways; 200 requests/s for myapp.com through both")
	entries := map[string]string{}
	for _, ns := range []string{"blue", "green"} {
		addr, stopEntry, err := startEntry(ctx, c.Client, ns)
		if err != nil {
			return err
		}
		defer stopEntry()
		entries[ns] = addr
		fmt.Printf("entry point of namespace %s: http://%s\n", ns, addr)
	}
	var gws []*gatewaybed.Nginx
	for _, name := range []string{"gw-1", "gw-2"} {
		g, err := gatewaybed.NewNginx(name, filepath.Join(work, name))
		if err != nil {
			return err
		}
		defer g.Stop()
		gws = append(gws, g)
		fmt.Printf("gateway %s: nginx on %s, config folder %s\n", name, g.Address(), g.ConfigDir)
	}
	// The gateways serve myapp.com from a file of their own, as before
	// bluegreen: init adopts it.
	for _, g := range gws {
		own := fmt.Sprintf("server {\n    listen %s;\n    server_name myapp.com;\n    location / { proxy_pass http://%s; }\n}\n", g.Address(), entries["blue"])
		if err := os.WriteFile(filepath.Join(g.ConfigDir, "myapp.conf"), []byte(own), 0o644); err != nil {
			return err
		}
		if out, err := exec.CommandContext(ctx, g.Reload()[0], g.Reload()[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("reload %s: %w: %s", g.Name, err, out)
		}
	}
	time.Sleep(time.Second)
	addrs := []string{gws[0].Address(), gws[1].Address()}
	load := gatewaybed.NewLoad(addrs, "myapp.com", "/pay", 200)
	defer load.Stop()
	counter := func() {
		s := load.Snapshot()
		fmt.Printf("\033[1mrequests through the gateways so far: %d, failed: %d, answered by %v\033[0m\n", s.Total, s.Failed, s.ByColor)
	}

	spec, err := writeSpec(work, gws, entries)
	if err != nil {
		return err
	}
	env := append(os.Environ(), "KUBECONFIG="+c.Kubeconfig, "HOME="+work, "BLUEGREEN_AUDIT_LOG="+filepath.Join(work, "audit.jsonl"))
	cli := func(args ...string) error {
		fmt.Printf("$ bluegreen %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, os.Stdout, os.Stderr
		return cmd.Run()
	}
	through := func(host string) {
		for _, g := range gws {
			_, a, err := gatewaybed.Get(ctx, g.Address(), host, "/payment/healthz")
			if err != nil {
				fmt.Printf("  %s via %s: %v\n", host, g.Name, err)
				continue
			}
			fmt.Printf("  %-18s via %s → namespace %s, payment %s\n", host, g.Name, a.Color, a.Version)
		}
	}
	stages := []struct {
		title string
		args  [][]string
		after func()
	}{
		{"Adopt the product: green gets the services at 0 replicas; the gateways' own file is handed to bluegreen in one reload",
			[][]string{{"namespace", "init", "-f", spec, "--active", "blue"}, {"namespace", "status", "-f", spec}}, nil},
		{"Plan the release of payment 2.0.0 (changes nothing)",
			[][]string{{"namespace", "plan", "-f", spec, "--image", "payment=" + v2}}, nil},
		{"Release payment 2.0.0 to green, check it through preprod.myapp.com on both gateways, pause before the switch",
			[][]string{{"namespace", "deploy", "-f", spec, "--image", "payment=" + v2, "--pause"}, {"namespace", "status", "-f", spec}},
			func() { through("myapp.com"); through("preprod.myapp.com") }},
		{"Promote: both gateways send myapp.com to green, all or none",
			[][]string{{"namespace", "promote", "-f", spec}, {"namespace", "status", "-f", spec}},
			func() { through("myapp.com"); through("preprod.myapp.com") }},
		{"Roll back in one command: both gateways send myapp.com to blue again; green keeps 2.0.0 behind preprod for re-testing",
			[][]string{{"namespace", "rollback", "-f", spec}, {"namespace", "status", "-f", spec}},
			func() { through("myapp.com"); through("preprod.myapp.com") }},
	}
	for _, st := range stages {
		section(st.title)
		for _, a := range st.args {
			if err := cli(a...); err != nil {
				return fmt.Errorf("bluegreen %s: %w", strings.Join(a, " "), err)
			}
		}
		if st.after != nil {
			st.after()
		}
		counter()
	}
	time.Sleep(time.Second)
	sum := gatewaybed.Summarize(load.Stop())
	section("Done")
	fmt.Printf("%d requests through both gateways during the whole demo, %d failed; answered by %v\n", sum.Total, sum.Failed, sum.ByColor)
	if sum.Failed > 0 {
		return fmt.Errorf("%d requests failed, e.g. %q", sum.Failed, sum.FirstFailures)
	}
	return nil
}

func section(title string) { fmt.Printf("\n\033[1m== %s\033[0m\n", title) }

// startEntry serves namespace ns's entry point: every answer names the
// namespace and the version its payment Deployment runs (its image's
// tag), read from the cluster every half second.
func startEntry(ctx context.Context, kube kubernetes.Interface, ns string) (string, func(), error) {
	var mu sync.Mutex
	version := "none"
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		for ctx.Err() == nil {
			v := "none"
			if d, err := kube.AppsV1().Deployments(ns).Get(ctx, "payment", metav1.GetOptions{}); err == nil && len(d.Spec.Template.Spec.Containers) > 0 {
				img := d.Spec.Template.Spec.Containers[0].Image
				v = img[strings.LastIndex(img, ":")+1:]
			}
			mu.Lock()
			version = v
			mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		v := version
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(gatewaybed.Answer{Color: ns, Service: "payments", Version: v, Host: r.Host, Path: r.URL.Path})
	})}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "entry point", ns, err)
		}
	}()
	return l.Addr().String(), func() { cancel(); _ = srv.Close() }, nil
}

// writeSpec writes the product's release spec: the seed's namespaces and
// services, a check of payment through the preprod host, the gateways.
func writeSpec(work string, gws []*gatewaybed.Nginx, entries map[string]string) (string, error) {
	var svcs []map[string]any
	for _, s := range services {
		svc := map[string]any{"name": s}
		if s == "payment" {
			svc["checks"] = []any{map[string]any{"name": "serves-2.0.0", "http": map[string]any{
				"url": "/payment/healthz", "bodyContains": `"version":"2.0.0"`, "retries": 5, "interval": "500ms"}}}
		}
		svcs = append(svcs, svc)
	}
	spec := map[string]any{
		"kind": "NamespaceRelease", "product": "payments",
		"namespaces": map[string]string{"blue": "blue", "green": "green"},
		"services":   svcs,
		"gateway": map[string]any{"router": "nginx", "prodHost": "myapp.com", "preprodHost": "preprod.myapp.com", "adopt": "myapp.conf",
			"upstreams": map[string]any{"blue": map[string]any{"servers": []string{entries["blue"]}}, "green": map[string]any{"servers": []string{entries["green"]}}},
			"gateways":  gatewaybed.Gateways(gws...)},
		"approval": "prompt",
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(work, "payments.yaml")
	return path, os.WriteFile(path, data, 0o600)
}
