package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/api/v1alpha1"
	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// SecretReader reads the data of a Secret in the release's namespace.
type SecretReader func(ctx context.Context, name string) (map[string]string, error)

// ReleaseOf is the service-scope release a BlueGreenRelease asks for, as
// `bluegreen deploy` would be given it: the object's name is the app, its
// namespace the app's, and the checks' secrets are read from the Secrets
// they name. The run record seals those values in the run's own Secret.
func ReleaseOf(ctx context.Context, obj *v1alpha1.BlueGreenRelease, secrets SecretReader) (plan.ServiceRelease, error) {
	s := obj.Spec
	rel := plan.ServiceRelease{
		App: obj.Name, Namespace: obj.Namespace, Image: s.Image, Container: s.Container, ColorLabel: s.ColorLabel,
		ActiveService: s.ActiveService, PreviewService: s.PreviewService, PreviewURL: s.PreviewURL,
		RolloutTimeout: dur(s.RolloutTimeout), WatchWindow: dur(s.WatchWindow), ScaleDownDelay: dur(s.ScaleDownDelay),
		KeepWarm: s.KeepWarm, Approval: "auto",
	}
	if s.Approval == v1alpha1.ApprovalManual {
		rel.Approval = "pause"
	}
	for _, c := range s.Checks {
		spec, err := checkOf(ctx, c, secrets)
		if err != nil {
			return plan.ServiceRelease{}, fmt.Errorf("BlueGreenRelease %s/%s: check %q: %w", obj.Namespace, obj.Name, c.Name, err)
		}
		rel.Checks = append(rel.Checks, spec)
	}
	rel.Defaults()
	return rel, nil
}

func checkOf(ctx context.Context, c v1alpha1.Check, secrets SecretReader) (check.Spec, error) {
	out := check.Spec{Name: c.Name}
	switch {
	case c.HTTP != nil:
		h := c.HTTP
		cfg := &check.HTTPConfig{URL: h.URL, ExpectStatus: int(h.ExpectStatus), BodyContains: h.BodyContains,
			Retries: int(h.Retries), Interval: dur(h.Interval), Timeout: dur(h.Timeout)}
		if h.HeadersFrom != nil {
			data, err := secrets(ctx, h.HeadersFrom.Name)
			if err != nil {
				return out, fmt.Errorf("headersFrom Secret %s: %w", h.HeadersFrom.Name, err)
			}
			cfg.Headers = maps.Clone(data)
		}
		out.HTTP = cfg
	case c.Webhook != nil:
		ref := c.Webhook.URLFrom
		data, err := secrets(ctx, ref.Name)
		if err != nil {
			return out, fmt.Errorf("urlFrom Secret %s: %w", ref.Name, err)
		}
		url, ok := data[ref.Key]
		if !ok {
			return out, fmt.Errorf("urlFrom: Secret %s has no key %q (it has %v)", ref.Name, ref.Key, slices.Sorted(maps.Keys(data)))
		}
		out.Webhook = &check.WebhookConfig{URL: url, Timeout: dur(c.Webhook.Timeout)}
	default:
		return out, fmt.Errorf("set exactly one of http and webhook")
	}
	if err := out.Validate(); err != nil {
		return out, err
	}
	return out, nil
}

func dur(d *metav1.Duration) plan.Duration {
	if d == nil {
		return 0
	}
	return plan.Duration(d.Duration)
}
