// Package notify owns release notifications: the Event a release emits at
// each milestone, the Notifier interface, the notifiers — a Slack-compatible
// incoming webhook (Slack), a structured JSON webhook (JSONWebhook) and an
// Amazon SNS topic (SNS) — Multi, which fans an event out to several
// notifiers, and Queue, which delivers in the background.
//
// Notifications are best effort. Each notifier's Notify returns an error so
// callers and tests can see what happened, but releases should notify
// through Multi, which only logs failures: a broken webhook or a missing
// topic must never fail or stall a release beyond the notifier's own
// timeouts.
//
// Slack posts {"text": "..."} (plus "blocks" when Slack.Blocks is set) to
// the webhook URL; JSONWebhook posts the Event's JSON encoding. Both share
// one delivery: it retries up to 3 times (4 attempts) on 5xx, 429 and
// transport errors, waiting Backoff, 2*Backoff, 4*Backoff, or the
// Retry-After seconds of a 429/503 answer capped at 5s. Any other 4xx fails
// at once. The webhook URL is a secret: errors and logs only ever show it
// through redact.URL (e.g. https://hooks.slack.com/services/***). SNS relies
// on the AWS SDK client's own retryer.
package notify
