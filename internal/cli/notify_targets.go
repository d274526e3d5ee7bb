package cli

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	bgaws "github.com/bluegreen/bluegreen/internal/aws"
	"github.com/bluegreen/bluegreen/internal/notify"
	"github.com/bluegreen/bluegreen/internal/redact"
)

// notifyTarget is one parsed --notify value (or --notify-webhook URL).
type notifyTarget struct {
	// format is "slack", "json" or "sns".
	format string
	// url is the webhook URL of slack and json targets, a secret.
	url string
	// topic and region are an sns target's ARN and the region in it.
	topic, region string
}

const notifyForms = "want slack+https://…, json+https://… or sns:arn:aws:sns:<region>:<account>:<topic>"

// parseNotifyTargets checks every --notify-webhook and --notify value
// before anything is written, so that a typo fails the command (exit 2)
// instead of silently losing the notifications of a release. Values are
// shown redacted: a webhook URL's path is its secret.
func parseNotifyTargets(webhooks, targets []string) ([]notifyTarget, error) {
	var out []notifyTarget
	for _, v := range webhooks {
		if err := checkWebhookURL(v); err != nil {
			return nil, usageErr("--notify-webhook %s: %v; want an https:// URL of a Slack-compatible incoming webhook", redact.WebhookURL(v), err)
		}
		out = append(out, notifyTarget{format: "slack", url: v})
	}
	for _, v := range targets {
		v = strings.TrimSpace(v)
		t, err := parseNotifyTarget(v)
		switch {
		case err != nil && strings.HasPrefix(v, "sns:"):
			// An ARN is no secret, and the error already says the fix.
			return nil, usageErr("--notify %s: %v", v, err)
		case err != nil:
			return nil, usageErr("--notify %s: %v; %s", redact.WebhookURL(v), err, notifyForms)
		}
		out = append(out, t)
	}
	return out, nil
}

func parseNotifyTarget(v string) (notifyTarget, error) {
	if topic, ok := strings.CutPrefix(v, "sns:"); ok {
		region, err := notify.TopicRegion(topic)
		if err != nil {
			return notifyTarget{}, err
		}
		return notifyTarget{format: "sns", topic: topic, region: region}, nil
	}
	format, rest, ok := strings.Cut(v, "+")
	if !ok || (format != "slack" && format != "json") {
		return notifyTarget{}, fmt.Errorf("unknown notification target")
	}
	if err := checkWebhookURL(rest); err != nil {
		return notifyTarget{}, err
	}
	return notifyTarget{format: format, url: rest}, nil
}

// checkWebhookURL accepts absolute http(s) URLs with a host.
func checkWebhookURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("not an absolute http(s) URL")
	}
	return nil
}

// notifiers builds the notifier of each target, hiding secrets from
// what they send. SNS clients are built
// like migrate's AWS clients — standard credential chain, --aws-endpoint,
// and the run's fence, so that a run that lost its lock publishes nothing
// more — one per region.
func (g *Global) notifiers(ctx context.Context, secrets *redact.Secrets) []notify.Notifier {
	var out []notify.Notifier
	clients := map[string]bgaws.SNS{}
	for _, t := range g.notifyTargets {
		switch t.format {
		case "slack":
			out = append(out, &notify.Slack{Webhook: notify.Webhook{URL: t.url, Logger: g.log, Secrets: secrets}})
		case "json":
			out = append(out, &notify.JSONWebhook{Webhook: notify.Webhook{URL: t.url, Logger: g.log, Secrets: secrets}})
		case "sns":
			c, ok := clients[t.region]
			if !ok {
				cfg, err := bgaws.Config(ctx, bgaws.Options{Region: t.region, Endpoint: g.AWSEndpoint, Gate: g.fence.Err})
				if err != nil {
					g.log.Warn("sns notifications disabled", "topic", t.topic, "error", err)
					continue
				}
				c = bgaws.NewSNS(cfg)
				clients[t.region] = c
			}
			out = append(out, &notify.SNS{TopicARN: t.topic, Client: c, Secrets: secrets})
		}
	}
	return out
}

// notifyURLs returns the webhook URLs of every target: secrets to redact.
func (g *Global) notifyURLs() []string {
	urls := append([]string(nil), g.Notify...)
	for _, t := range g.notifyTargets {
		if t.url != "" {
			urls = append(urls, t.url)
		}
	}
	return urls
}
