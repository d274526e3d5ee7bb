// Command bluegreen releases software with blue-green deployments on
// Kubernetes and moves it back in under a second. Installed as
// kubectl-bluegreen it also runs as `kubectl bluegreen`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/bluegreen/bluegreen/internal/cli"
	"github.com/bluegreen/bluegreen/internal/startgc"
)

func main() {
	startgc.Done()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
