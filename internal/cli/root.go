package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/redact"
)

// Exit codes, documented in docs/service-scope.md.
const (
	ExitOK         = 0
	ExitError      = 1
	ExitInvalid    = 2
	ExitLocked     = 3
	ExitRolledBack = 4
)

// Global holds the flags every command shares.
type Global struct {
	// Kubeconfig and Kube are kubectl's client flags: --kubeconfig, and
	// --context, --cluster, --user, -n, --server, --token, --as,
	// --as-group, --as-uid, --request-timeout, --certificate-authority,
	// --client-certificate, --client-key, --insecure-skip-tls-verify,
	// --tls-server-name, bound by client-go's clientcmd as kubectl binds
	// them.
	Kubeconfig string
	Kube       clientcmd.ConfigOverrides
	Output     string
	Journal    string
	Audit      string
	// Notify holds the --notify-webhook URLs (Slack format).
	Notify []string
	// NotifyTo holds the --notify targets: slack+URL, json+URL or
	// sns:ARN.
	NotifyTo []string
	// AWSEndpoint sends every AWS call (SNS notifications, migrate) to
	// this base URL instead of AWS.
	AWSEndpoint string
	Verbose     bool
	// NotifyTimeout bounds how long a command waits at exit for
	// notifications still being delivered.
	NotifyTimeout time.Duration
	// RunHistory is how many finished runs of an app stay in the cluster.
	RunHistory int
	// LeaseDuration is how long a run's Lease stays valid unrenewed.
	LeaseDuration time.Duration

	in       io.Reader
	out, err io.Writer
	log      *slog.Logger
	clock    clock.Clock
	// fence cuts every client of this process off from the clusters and
	// AWS once its run has lost its Lease (see kube.Fence).
	fence *kube.Fence
	// notifyTargets are Notify and NotifyTo, parsed and checked.
	notifyTargets []notifyTarget
	// progress throttles the live view's progress lines.
	progress progressLines
	// argv is the command line, program name first; the lean build hands
	// it to the companion as it is.
	argv []string
}

// Execute runs the command line and returns the process exit code.
func Execute(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) int {
	g := &Global{in: in, out: out, err: errOut, clock: clock.Real{}, fence: &kube.Fence{}, argv: args}
	if !leanBuild {
		warnCaller(errOut)
	}
	root := newRoot(g, filepath.Base(args[0]))
	root.SetArgs(args[1:])
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(errOut, "Error: %s\n", redactErr(err))
	return exitCode(err)
}

func exitCode(err error) int {
	switch {
	case errors.Is(err, plan.ErrInvalid), errors.Is(err, errUsage), strings.HasPrefix(err.Error(), "unknown command "):
		return ExitInvalid
	case errors.Is(err, kube.ErrLocked), errors.Is(err, kube.ErrLeaseLost):
		return ExitLocked
	case errors.Is(err, engine.ErrRolledBack), errors.Is(err, engine.ErrAborted):
		return ExitRolledBack
	}
	return ExitError
}

var errUsage = errors.New("usage")

// exitCodesHelp is the table of exit codes, shown by --help.
const exitCodesHelp = `Exit codes:
  0  done
  1  an error (the cluster, a gateway, AWS); the run is recorded, ` + "`resume`" + ` continues it
  2  bad input or usage (unknown flag, missing argument, invalid spec); nothing was changed
  3  another run holds the lock, or this run lost it
  4  the run failed and was rolled back, or was aborted`

// usageArgs makes an argument validator's error a usage error (exit 2).
func usageArgs(c *cobra.Command) {
	if v := c.Args; v != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := v(cmd, args); err != nil {
				return usageErr("%s (see %s --help)", err, cmd.CommandPath())
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

func newRoot(g *Global, name string) *cobra.Command {
	root := &cobra.Command{
		Use:           "bluegreen",
		Short:         "Blue-green releases on Kubernetes with instant rollback",
		Long:          "Blue-green releases on Kubernetes with instant rollback: at Service scope, at namespace scope\n(a product behind gateways) and at cluster scope (bluegreen migrate).\n\n" + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			level := slog.LevelWarn
			if g.Verbose {
				level = slog.LevelDebug
			}
			g.log = slog.New(slog.NewTextHandler(g.err, &slog.HandlerOptions{Level: level}))
			if err := checkOutput(g.Output); err != nil {
				return err
			}
			if g.LeaseDuration < 3*time.Second || g.LeaseDuration%time.Second != 0 {
				return usageErr("--lease-duration %s: want whole seconds, at least 3s (default %s)", g.LeaseDuration, kube.DefaultLeaseDuration)
			}
			if g.AWSEndpoint != "" && checkWebhookURL(g.AWSEndpoint) != nil {
				return usageErr("--aws-endpoint %s: not an absolute URL like https://host:port; fix --aws-endpoint or BLUEGREEN_AWS_ENDPOINT", redact.URL(g.AWSEndpoint))
			}
			var err error
			g.notifyTargets, err = parseNotifyTargets(g.Notify, g.NotifyTo)
			return err
		},
	}
	if strings.HasPrefix(name, "kubectl-") {
		// Run by kubectl as a plugin: help and completion say `kubectl bluegreen`.
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl bluegreen"}
	}
	f := root.PersistentFlags()
	f.StringVar(&g.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default $KUBECONFIG, then ~/.kube/config)")
	clientcmd.BindOverrideFlags(&g.Kube, f, clientcmd.RecommendedConfigOverrideFlags(""))
	g.Kube.Context.Namespace = envOr("NAMESPACE", "") // the default; -n wins
	f.Lookup("namespace").Usage = "namespace of the app (default $NAMESPACE, then the context's namespace)"
	f.Lookup("context").Usage = "kubeconfig context to use (default: the current context)"
	f.StringVarP(&g.Output, "output", "o", "text", outputHelp)
	f.StringVar(&g.Journal, "journal", "", "ignored: runs are recorded in the cluster they act on")
	_ = f.MarkDeprecated("journal", "runs are recorded in the cluster they act on (BlueGreenRun objects); the flag is ignored")
	f.StringVar(&g.Audit, "audit-log", envOr("BLUEGREEN_AUDIT_LOG", ""), "JSON-lines audit log kept on this machine (default $XDG_STATE_HOME/bluegreen/audit.jsonl; env BLUEGREEN_AUDIT_LOG)")
	f.StringArrayVar(&g.Notify, "notify-webhook", envList("BLUEGREEN_NOTIFY_WEBHOOK"), "Slack-compatible webhook URL notified on start, pause, promote, rollback and failure (repeatable; env BLUEGREEN_NOTIFY_WEBHOOK)")
	f.StringArrayVar(&g.NotifyTo, "notify", envList("BLUEGREEN_NOTIFY"), "notification target: slack+https://… (Slack text), json+https://… (structured JSON) or sns:arn:aws:sns:<region>:<account>:<topic> (repeatable; env BLUEGREEN_NOTIFY, comma-separated)")
	f.StringVar(&g.AWSEndpoint, "aws-endpoint", envOr("BLUEGREEN_AWS_ENDPOINT", ""), "send every AWS API call (SNS notifications, migrate) to this URL instead of AWS (a VPC endpoint proxy, a test fake; env BLUEGREEN_AWS_ENDPOINT)")
	f.IntVar(&g.RunHistory, "run-history", 10, "how many finished runs of an app (or a migration) to keep in the cluster; older ones (and their Secrets) are deleted after each new release")
	f.DurationVar(&g.NotifyTimeout, "notify-timeout", 10*time.Second, "how long to wait at exit for notifications still being delivered (they never hold up a step)")
	f.BoolVarP(&g.Verbose, "verbose", "v", false, "log every step to stderr")
	f.DurationVar(&g.LeaseDuration, "lease-duration", envDuration("BLUEGREEN_LEASE_DURATION", kube.DefaultLeaseDuration),
		"how long a run's Lease stays valid unrenewed; renewed every sixth of it, the run stops acting after failing to renew for half of it (env BLUEGREEN_LEASE_DURATION)")
	root.AddCommand(
		newStatusCmd(g), newInitCmd(g), newDeployCmd(g), newPlanCmd(g), newPromoteCmd(g),
		newRollbackCmd(g), newAbortCmd(g), newResumeCmd(g), newUnlockCmd(g), newNamespaceCmd(g), newVersionCmd(g),
		newListCmd(g), newDashboardCmd(g),
	)
	root.AddCommand(clusterCommands(g)...)
	// Usage errors exit 2, like bad input: an unknown flag, a bad flag
	// value, a missing or extra argument.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%s (see %s --help)", err, c.CommandPath())
	})
	usageArgs(root)
	wireCompletion(g, root)
	return root
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

// envDuration reads a duration from the environment; an unparsable value
// is kept as 0 so that flag validation names it.
func envDuration(key string, def time.Duration) time.Duration {
	v, ok := os.LookupEnv(key)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0
	}
	return d
}

func envList(key string) []string {
	if v := os.Getenv(key); v != "" {
		return strings.Split(v, ",")
	}
	return nil
}

// connect builds clients and checks the cluster answers.
func (g *Global) connect(ctx context.Context) (*kube.Clients, error) {
	c, err := kube.Connect(g.clientOptions())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", plan.ErrInvalid, err)
	}
	if err := c.Ping(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (g *Global) clientOptions() kube.ClientOptions {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = g.Kubeconfig
	overrides := g.Kube
	return kube.ClientOptions{Loader: clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &overrides),
		Kubeconfig: g.Kubeconfig, Context: g.Kube.CurrentContext, Namespace: g.Kube.Context.Namespace, Fence: g.fence}
}
