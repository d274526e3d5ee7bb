package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bluegreen/bluegreen/internal/redact"
)

// Slack posts events to a Slack-compatible incoming webhook.
type Slack struct {
	Webhook
	// Blocks adds a Block Kit section and context to the payload.
	Blocks bool
}

// slackPayload is the JSON posted to the webhook.
type slackPayload struct {
	Text   string `json:"text"`
	Blocks []any  `json:"blocks,omitempty"`
}

// Notify posts e, retrying as described in the package documentation.
func (s *Slack) Notify(ctx context.Context, e Event) error {
	if strings.TrimSpace(s.URL) == "" {
		return fmt.Errorf("slack notify %s: no webhook url; set the Slack webhook URL", e.Kind)
	}
	body, err := json.Marshal(s.payload(e))
	if err != nil {
		return fmt.Errorf("slack notify %s: encode payload: %w", e.Kind, err)
	}
	return s.hook().send(ctx, e, body)
}

// hook returns the shared webhook delivery configured like s.
func (s *Slack) hook() hook { return hook{name: "slack", Webhook: s.Webhook} }

// payload builds the JSON body for e.
func (s *Slack) payload(e Event) slackPayload {
	p := slackPayload{Text: escape(s.hide(nil, e.Text()))}
	if !s.Blocks {
		return p
	}
	var ctxFields []any
	for _, kv := range [][2]string{{"app", e.App}, {"namespace", e.Namespace}, {"run", e.Run}, {"image", e.Image}} {
		if kv[1] != "" {
			ctxFields = append(ctxFields, map[string]any{"type": "mrkdwn", "text": "*" + kv[0] + ":* " + escape(s.hide(nil, kv[1]))})
		}
	}
	p.Blocks = []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": p.Text}}}
	if len(ctxFields) > 0 {
		p.Blocks = append(p.Blocks, map[string]any{"type": "context", "elements": ctxFields})
	}
	return p
}

// hide removes the configured secrets, the extra ones and URL secrets
// from str.
func (s *Slack) hide(extra *redact.Secrets, str string) string {
	return hideSecrets(s.Secrets, extra, str)
}

// escape applies Slack's mrkdwn escaping of &, < and >.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
