package notify

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/bluegreen/bluegreen/internal/redact"
)

// Multi fans an event out to several notifiers concurrently. It never
// returns an error: failures (and panics) of its notifiers are logged with
// secrets hidden (the Secrets set, the URLs and Secrets of webhook notifiers,
// and URL secrets), so that a notification problem cannot fail a release.
type Multi struct {
	Notifiers []Notifier
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
	// Secrets, if set, are hidden from logged errors.
	Secrets *redact.Secrets
}

// Notify delivers e to every notifier, waits for all of them and returns nil.
func (m Multi) Notify(ctx context.Context, e Event) error {
	log := m.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hide := m.hider()
	var wg sync.WaitGroup
	for _, n := range m.Notifiers {
		if n == nil {
			continue
		}
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					log.Error("notifier panicked", "notifier", describe(n), "kind", e.Kind, "run", e.Run,
						"panic", hide(fmt.Sprint(r)))
				}
			}()
			if err := n.Notify(ctx, e); err != nil {
				log.Warn("notification failed", "notifier", describe(n), "kind", e.Kind, "run", e.Run,
					"error", hide(err.Error()))
			}
		})
	}
	wg.Wait()
	return nil
}

// hider returns a function hiding every secret Multi knows of.
func (m Multi) hider() func(string) string {
	own := redact.NewSecrets()
	var sets []*redact.Secrets
	for _, n := range m.Notifiers {
		if h, ok := webhookOf(n); ok {
			own.Add(h.URL)
			sets = append(sets, h.Secrets)
		}
	}
	return func(str string) string {
		str = m.Secrets.Replace(own.Replace(str))
		for _, set := range sets {
			str = set.Replace(str)
		}
		return redact.Text(str)
	}
}

// webhookOf returns the delivery of a webhook notifier, whose URL is a
// secret.
func webhookOf(n Notifier) (hook, bool) {
	switch t := n.(type) {
	case *Slack:
		if t != nil {
			return t.hook(), true
		}
	case *JSONWebhook:
		if t != nil {
			return t.hook(), true
		}
	}
	return hook{}, false
}

// describe names a notifier for logs without revealing secrets.
func describe(n Notifier) string {
	if h, ok := webhookOf(n); ok {
		return h.name + " " + redact.WebhookURL(h.URL)
	}
	if s, ok := n.(*SNS); ok && s != nil {
		return "sns " + s.TopicARN
	}
	return fmt.Sprintf("%T", n)
}
