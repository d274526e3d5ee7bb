// Command demo supports `make demo`: it installs the sample app on a test-bed
// cluster and serves the sample app's health endpoint that the release's
// checks call.
//
//	demo install --kubeconfig FILE [-n NAMESPACE]   a plain Deployment "shop" + Service "shop"
//	demo serve --addr 127.0.0.1:8089                 /healthz answers 200 "ok"
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bluegreen/bluegreen/test/servicebed"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		slog.Error("demo", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: demo install|serve [flags]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the cluster")
	ns := fs.String("n", "default", "namespace")
	addr := fs.String("addr", "127.0.0.1:8089", "listen address")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "install":
		return install(ctx, *kubeconfig, *ns)
	case "serve":
		return serve(ctx, *addr)
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func install(ctx context.Context, kubeconfig, ns string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if err := servicebed.InstallPlain(ctx, c, ns, "shop", "registry.example.com/shop:1.0.0", 3); err != nil {
		return err
	}
	fmt.Println("installed Deployment shop (3 pods of registry.example.com/shop:1.0.0) behind Service shop")
	return nil
}

func serve(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
