package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/spec"
)

// releaseFile is the spec file format: a ServiceRelease with a type header.
type releaseFile struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	plan.ServiceRelease
}

// releaseFlags are the deploy flags; each overrides the spec file's field.
type releaseFlags struct {
	file                    string
	rel                     plan.ServiceRelease
	env                     []string
	healthURL               string
	expectStatus            int
	expectBody              string
	retries                 int
	interval, checkTimeout  time.Duration
	smokeCmd, checkWebhook  string
	rolloutTimeout          time.Duration
	watchWindow, watchEvery time.Duration
	scaleDownDelay          time.Duration
	allowGitOps             bool
	keepWarm                int32
	yes, pause              bool
}

func (f *releaseFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "filename", "f", "", "release spec file (YAML); flags override its fields")
	fl.BoolVar(&f.allowGitOps, "allow-gitops-owned", false, "release even though Argo CD, Flux or Helm manages the Services or Deployments (configure it to leave the selector and images alone first)")
	fl.StringVar(&f.rel.Image, "image", "", "image to release on the idle color, e.g. registry.example.com/shop:1.4.2")
	fl.StringVar(&f.rel.Container, "container", "", "container to set the image on (default: the first container)")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable to set on the idle color, KEY=VALUE (repeatable)")
	fl.StringVar(&f.rel.ColorLabel, "color-label", "", "pod label key that holds the color (default track)")
	fl.StringVar(&f.rel.ActiveService, "active-service", "", "Service that production traffic goes through (default APP)")
	fl.StringVar(&f.rel.PreviewService, "preview-service", "", "Service that reaches the idle color (default APP-preview)")
	fl.StringVar(&f.rel.PreviewURL, "preview-url", "", "base URL of the preview Service, for checks before the switch (PREVIEW_URL of smoke tests)")
	fl.StringVar(&f.rel.ActiveURL, "active-url", "", "base URL of production, for checks during the watch window")
	fl.DurationVar(&f.rolloutTimeout, "rollout-timeout", 0, "how long the idle color may take to roll out (default 5m)")
	fl.StringVar(&f.healthURL, "health-url", "", "HTTP check: URL or path (e.g. /healthz, resolved against --preview-url / --active-url)")
	fl.IntVar(&f.expectStatus, "expect-status", 0, "HTTP check: status that passes (default any 2xx)")
	fl.StringVar(&f.expectBody, "expect-body", "", "HTTP check: substring the body must contain")
	fl.IntVar(&f.retries, "retries", 0, "HTTP check: attempts before failing (default $HEALTH_CHECK_RETRIES or 10)")
	fl.DurationVar(&f.interval, "interval", 0, "HTTP check: wait between attempts (default $HEALTH_CHECK_INTERVAL or 5s)")
	fl.DurationVar(&f.checkTimeout, "check-timeout", 0, "timeout of each HTTP attempt and webhook request (default 30s) and of the whole smoke test (default $SMOKE_TEST_TIMEOUT or 60s)")
	fl.StringVar(&f.smokeCmd, "smoke-cmd", "", "smoke-test command run with sh -c; gets PREVIEW_URL, APP, COLOR, IMAGE")
	fl.StringVar(&f.checkWebhook, "check-webhook", "", "webhook check: URL that gets a POST and must answer 2xx")
	fl.DurationVar(&f.watchWindow, "watch-window", 0, "after the switch, watch the new color this long and roll back if a check fails (0: no watch)")
	fl.DurationVar(&f.watchEvery, "watch-interval", 0, "how often checks run during the watch window (default 10s)")
	fl.DurationVar(&f.scaleDownDelay, "scale-down-delay", 0, "scale the old color down (to --keep-warm, default 0) this long after the switch (default: keep it at full size until the next release, so a rollback is instant)")
	fl.Int32Var(&f.keepWarm, "keep-warm", 0, "scale the old color to this many replicas after the switch (after --scale-down-delay if set), and the new color if rolled back after the switch (default: keep full size)")
	fl.BoolVarP(&f.yes, "yes", "y", false, "approve the switch up front, without a prompt")
	fl.BoolVar(&f.pause, "pause", false, "stop before the switch; 'bluegreen promote APP' continues")
}

// release merges the spec file and the flags into a release for app.
func (f *releaseFlags) release(cmd *cobra.Command, app, ns string) (plan.ServiceRelease, error) {
	var rel plan.ServiceRelease
	if f.file != "" {
		r, err := loadRelease(f.file)
		if err != nil {
			return rel, err
		}
		rel = r
	}
	if app != "" {
		if rel.App != "" && rel.App != app {
			return rel, fmt.Errorf("%w: app %q on the command line but %q in %s", plan.ErrInvalid, app, rel.App, f.file)
		}
		rel.App = app
	}
	if rel.App == "" {
		return rel, usageErr("no app given: pass APP or set app: in the spec file")
	}
	rel.Namespace = ns
	changed := cmd.Flags().Changed
	set := func(name string, apply func()) {
		if changed(name) {
			apply()
		}
	}
	set("image", func() { rel.Image = f.rel.Image })
	set("container", func() { rel.Container = f.rel.Container })
	set("color-label", func() { rel.ColorLabel = f.rel.ColorLabel })
	set("active-service", func() { rel.ActiveService = f.rel.ActiveService })
	set("preview-service", func() { rel.PreviewService = f.rel.PreviewService })
	set("preview-url", func() { rel.PreviewURL = f.rel.PreviewURL })
	set("active-url", func() { rel.ActiveURL = f.rel.ActiveURL })
	set("rollout-timeout", func() { rel.RolloutTimeout = plan.Duration(f.rolloutTimeout) })
	set("watch-window", func() { rel.WatchWindow = plan.Duration(f.watchWindow) })
	set("watch-interval", func() { rel.WatchInterval = plan.Duration(f.watchEvery) })
	set("scale-down-delay", func() { rel.ScaleDownDelay = plan.Duration(f.scaleDownDelay) })
	set("keep-warm", func() { rel.KeepWarm = &f.keepWarm })
	for _, kv := range f.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return rel, fmt.Errorf("%w: --env %q: want KEY=VALUE", plan.ErrInvalid, kv)
		}
		if rel.Env == nil {
			rel.Env = map[string]string{}
		}
		rel.Env[k] = v
	}
	if f.healthURL != "" {
		rel.Checks = append(rel.Checks, check.Spec{Name: "health", HTTP: &check.HTTPConfig{
			URL: f.healthURL, ExpectStatus: f.expectStatus, BodyContains: f.expectBody, Retries: f.retries,
			Interval: check.Duration(f.interval), Timeout: check.Duration(f.checkTimeout)}})
	}
	if f.smokeCmd != "" {
		rel.Checks = append(rel.Checks, check.Spec{Name: "smoke", Smoke: &check.SmokeConfig{Script: f.smokeCmd, Timeout: check.Duration(f.checkTimeout)}})
	}
	if f.checkWebhook != "" {
		rel.Checks = append(rel.Checks, check.Spec{Name: "webhook", Webhook: &check.WebhookConfig{URL: f.checkWebhook, Timeout: check.Duration(f.checkTimeout)}})
	}
	switch {
	case f.yes && f.pause:
		return rel, usageErr("--yes and --pause contradict each other; pick one")
	case f.yes:
		rel.Approval = "auto"
	case f.pause:
		rel.Approval = "pause"
	}
	rel.Defaults()
	return rel, nil
}

// readSpecFile reads a YAML or JSON spec file strictly into v: an unknown
// field is an error. Errors wrap plan.ErrInvalid, call the file what, and
// point at doc for the fields.
func readSpecFile(path, what, doc string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", plan.ErrInvalid, what, err)
	}
	if err := spec.DecodeStrict(what+" "+path, data, v); err != nil {
		return fmt.Errorf("%w: %w (see %s for the fields)", plan.ErrInvalid, err, doc)
	}
	return nil
}

// loadRelease reads a spec file strictly: unknown fields are errors.
func loadRelease(path string) (plan.ServiceRelease, error) {
	var f releaseFile
	if err := readSpecFile(path, "spec file", "docs/service-scope.md", &f); err != nil {
		return plan.ServiceRelease{}, err
	}
	if f.Kind != "" && f.Kind != "ServiceRelease" {
		return plan.ServiceRelease{}, fmt.Errorf("%w: spec file %s: kind %q, want ServiceRelease", plan.ErrInvalid, path, f.Kind)
	}
	return f.ServiceRelease, nil
}
