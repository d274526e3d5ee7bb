package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bluegreen/bluegreen/internal/clock"
)

// JSONWebhook posts each event as a structured JSON document, the Event's
// own encoding:
//
//	{"kind":"promoted","app":"shop","namespace":"prod","run":"01H…",
//	 "fromColor":"blue","toColor":"green","image":"reg/shop:1.2",
//	 "message":"","time":"2025-01-02T03:04:05Z"}
//
// for receivers that route or store events rather than show them (an
// incident tool, a deploy dashboard, a serverless function). Delivery,
// retries, timeouts and redaction are Slack's (see the package comment).
type JSONWebhook struct {
	Webhook
}

// Notify posts e as JSON, retrying as described in the package
// documentation.
func (j *JSONWebhook) Notify(ctx context.Context, e Event) error {
	if strings.TrimSpace(j.URL) == "" {
		return fmt.Errorf("json webhook notify %s: no webhook url; set the JSON webhook URL", e.Kind)
	}
	h := j.hook()
	body, err := json.Marshal(j.payload(e, h.getClock()))
	if err != nil {
		return fmt.Errorf("json webhook notify %s: encode payload: %w", e.Kind, err)
	}
	return h.send(ctx, e, body)
}

// payload returns e with every text field redacted and a UTC time: a
// message may quote an error that names a secret.
func (j *JSONWebhook) payload(e Event, c clock.Clock) Event {
	for _, f := range []*string{&e.App, &e.Namespace, &e.Run, &e.FromColor, &e.ToColor, &e.Image, &e.Message} {
		*f = hideSecrets(j.Secrets, nil, *f)
	}
	if e.Time.IsZero() {
		e.Time = c.Now()
	}
	e.Time = e.Time.UTC()
	return e
}

// hook returns the shared webhook delivery configured like j.
func (j *JSONWebhook) hook() hook { return hook{name: "json webhook", Webhook: j.Webhook} }
