// Command ebssim runs the EBS CSI driver simulator (package
// test/ebssim) against one test-bed cluster and an EC2 endpoint, for demos:
//
//	ebssim --kubeconfig FILE --aws-endpoint URL [--attach-delay 2s] [--detach-delay 2s]
//
// It prints nothing but logs, on stderr, and stops on SIGINT or SIGTERM.
// With --aws-endpoint it signs requests with placeholder credentials, as
// the local AWS fakes it is meant for check no signature.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bluegreen/bluegreen/test/ebssim"
)

func main() { os.Exit(mainCode()) }

// mainCode runs the simulator and returns the exit code, after the deferred
// signal handling is undone.
func mainCode() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	err := run(ctx, os.Args[1:], log)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		log.Error("ebs simulator failed", "error", err)
		return 1
	}
	return 0
}

// flags are the command line of ebssim.
type flags struct {
	kubeconfig, endpoint, region, driver string
	attachDelay, detachDelay, retry      time.Duration
	verbose                              bool
}

func parseFlags(args []string) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("ebssim", flag.ContinueOnError)
	fs.StringVar(&f.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster to serve")
	fs.StringVar(&f.endpoint, "aws-endpoint", "", "base URL of the EC2 endpoint, e.g. a local AWS fake")
	fs.StringVar(&f.region, "region", "us-east-1", "AWS region")
	fs.StringVar(&f.driver, "driver", ebssim.DefaultDriver, "CSI driver name of the volumes to handle")
	fs.DurationVar(&f.attachDelay, "attach-delay", 2*time.Second, "wait after a pod is scheduled before attaching its volume")
	fs.DurationVar(&f.detachDelay, "detach-delay", 2*time.Second, "wait after a volume's last pod is gone before detaching it")
	fs.DurationVar(&f.retry, "retry-interval", ebssim.DefaultRetryInterval, "retry interval of a failed attach")
	fs.BoolVar(&f.verbose, "v", false, "log debug messages")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if f.kubeconfig == "" {
		return f, errors.New("no kubeconfig: set --kubeconfig or KUBECONFIG")
	}
	if f.endpoint != "" {
		if u, err := url.Parse(f.endpoint); err != nil || u.Scheme == "" || u.Host == "" {
			return f, fmt.Errorf("aws endpoint %q is not an absolute URL like http://127.0.0.1:4566: fix --aws-endpoint", f.endpoint)
		}
	}
	return f, nil
}

func run(ctx context.Context, args []string, log *slog.Logger) error {
	f, err := parseFlags(args)
	if err != nil {
		return err
	}
	if f.verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	restConfig, err := clientcmd.BuildConfigFromFlags("", f.kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig %s: %w", f.kubeconfig, err)
	}
	restConfig.UserAgent = "ebssim"
	kube, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return fmt.Errorf("create kubernetes client: %w", err)
	}
	opts := []func(*config.LoadOptions) error{config.WithRegion(f.region)}
	if f.endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(f.endpoint),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDFAKE", "fake", "")))
	}
	awsConfig, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("load aws config: %w", err)
	}
	awsConfig.RetryMaxAttempts = 3
	sim := ebssim.New(ebssim.Options{
		Kube:          kube,
		EC2:           ec2.NewFromConfig(awsConfig),
		Driver:        f.driver,
		AttachDelay:   f.attachDelay,
		DetachDelay:   f.detachDelay,
		RetryInterval: f.retry,
		Logger:        log.With("cluster", restConfig.Host),
	})
	return sim.Run(ctx)
}
