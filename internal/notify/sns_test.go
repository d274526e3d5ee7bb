package notify

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/bluegreen/bluegreen/internal/redact"
	"github.com/bluegreen/bluegreen/test/awsfake"
)

func TestSNSPublishes(t *testing.T) {
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	topic := srv.AddTopic("us-east-1", "releases")
	client := sns.NewFromConfig(srv.AWSConfig())
	long := Event{Kind: KindFailed, App: strings.Repeat("a", 120), Namespace: "prod", Run: "01HRUN",
		Message: "line one\nline two with db-pass-123"}
	tests := []struct {
		name        string
		event       Event
		wantSubject string
		wantMessage string
		wantAttrs   map[string]string
	}{
		{"promoted", promoted, "bluegreen: myapp promoted to green in prod", promoted.Text(),
			map[string]string{"kind": "promoted", "app": "myapp", "namespace": "prod", "run": "01HRUN"}},
		{"started, ascii subject", Event{Kind: KindStarted, App: "shop", FromColor: "blue", ToColor: "green"},
			"bluegreen: shop release started: blue > green", ":rocket: shop release started: blue → green",
			map[string]string{"kind": "started", "app": "shop"}},
		{"long subject cut, secret hidden", long, "bluegreen: " + strings.Repeat("a", 86) + "...",
			":red_circle: " + long.App + " release failed in namespace prod — run 01HRUN: line one\nline two with ***",
			map[string]string{"kind": "failed", "app": long.App, "namespace": "prod", "run": "01HRUN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Published(topic))
			s := &SNS{TopicARN: topic, Client: client, Secrets: redact.NewSecrets("db-pass-123")}
			if err := s.Notify(context.Background(), tt.event); err != nil {
				t.Fatal(err)
			}
			got := srv.Published(topic)
			if len(got) != before+1 {
				t.Fatalf("published %d messages, want 1", len(got)-before)
			}
			m := got[len(got)-1]
			if m.Subject != tt.wantSubject || m.Message != tt.wantMessage {
				t.Errorf("subject %q message %q\nwant subject %q message %q", m.Subject, m.Message, tt.wantSubject, tt.wantMessage)
			}
			if len(m.Attributes) != len(tt.wantAttrs) {
				t.Errorf("attributes %+v, want %v", m.Attributes, tt.wantAttrs)
			}
			for k, v := range tt.wantAttrs {
				if a := m.Attributes[k]; a.DataType != "String" || a.StringValue != v {
					t.Errorf("attribute %s = %+v, want String %q", k, a, v)
				}
			}
		})
	}
}

func TestSNSMissingTopicIsLoggedNotFatal(t *testing.T) {
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	missing := "arn:aws:sns:us-east-1:123456789012:gone"
	s := &SNS{TopicARN: missing, Client: sns.NewFromConfig(srv.AWSConfig())}
	err := s.Notify(context.Background(), promoted)
	if err == nil || !strings.Contains(err.Error(), "sns notify promoted: publish to "+missing) || !strings.Contains(err.Error(), "NotFound") {
		t.Fatalf("err = %v, want a NotFound naming the topic", err)
	}
	log, logs := testLogger()
	if err := (Multi{Notifiers: []Notifier{s}, Logger: log}).Notify(context.Background(), promoted); err != nil {
		t.Fatalf("Multi returned %v; it must never fail", err)
	}
	if out := logs.String(); !strings.Contains(out, "notification failed") || !strings.Contains(out, "sns "+missing) ||
		!strings.Contains(out, "Topic does not exist") {
		t.Errorf("logs lack the failure:\n%s", out)
	}
}

func TestTopicRegion(t *testing.T) {
	tests := []struct {
		arn, want, wantErr string
	}{
		{arn: "arn:aws:sns:us-east-1:123456789012:releases", want: "us-east-1"},
		{arn: "arn:aws-cn:sns:cn-north-1:123456789012:rel_eases-1.fifo", want: "cn-north-1"},
		{arn: "releases", wantErr: "is not an ARN"},
		{arn: "arn:aws:sqs:us-east-1:123456789012:releases", wantErr: "is not an sns topic"},
		{arn: "arn:aws:sns::123456789012:releases", wantErr: "has no region"},
		{arn: "arn:aws:sns:us-east-1:1234:releases", wantErr: "is not 12 digits"},
		{arn: "arn:aws:sns:us-east-1:123456789012:rel eases", wantErr: "is not a topic name"},
		{arn: "arn:aws:sns:us-east-1:123456789012:" + strings.Repeat("a", 256) + ".fifo", want: "us-east-1"},
		{arn: "arn:aws:sns:us-east-1:123456789012:" + strings.Repeat("a", 257), wantErr: "is not a topic name"},
		{arn: "arn:aws:sns:us-east-1:123456789012:.fifo", wantErr: "is not a topic name"},
		{arn: "arn:aws:sns:us-east-1:12345678901x:releases", wantErr: "is not 12 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			got, err := TopicRegion(tt.arn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("TopicRegion = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
