package awsfake_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

func str(v string) snstypes.MessageAttributeValue {
	return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

func TestSNSCreateTopicAndPublish(t *testing.T) {
	ctx := context.Background()
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	cfg := srv.AWSConfig()
	cfg.Region = "eu-west-1"
	c := sns.NewFromConfig(cfg)

	created, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("releases")})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	topic := aws.ToString(created.TopicArn)
	if want := "arn:aws:sns:eu-west-1:123456789012:releases"; topic != want {
		t.Fatalf("CreateTopic ARN = %s, want %s (region of the signature)", topic, want)
	}
	if again := srv.AddTopic("eu-west-1", "releases"); again != topic {
		t.Fatalf("AddTopic of an existing topic = %s, want %s", again, topic)
	}

	out, err := c.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topic), Subject: aws.String("shop promoted"), Message: aws.String("shop promoted to green"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"kind": str("promoted"), "app": str("shop")},
	})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	got := srv.Published(topic)
	if len(got) != 1 {
		t.Fatalf("published %d messages, want 1", len(got))
	}
	m := got[0]
	if m.MessageID != aws.ToString(out.MessageId) || m.Subject != "shop promoted" || m.Message != "shop promoted to green" ||
		m.Attributes["kind"] != (awsfake.SNSAttribute{DataType: "String", StringValue: "promoted"}) ||
		m.Attributes["app"].StringValue != "shop" || len(m.Attributes) != 2 {
		t.Fatalf("published %+v (MessageId %s)", m, aws.ToString(out.MessageId))
	}
}

func TestSNSPublishErrors(t *testing.T) {
	ctx := context.Background()
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	c := sns.NewFromConfig(srv.AWSConfig())
	topic := srv.AddTopic("", "releases")
	tests := []struct {
		name     string
		in       sns.PublishInput
		wantCode string
	}{
		{"unknown topic", sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:nope"), Message: aws.String("m")}, "NotFound"},
		{"long subject", sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("m"), Subject: aws.String(strings.Repeat("s", 101))}, "InvalidParameter"},
		{"subject with newline", sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("m"), Subject: aws.String("a\nb")}, "InvalidParameter"},
		{"message too long", sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(strings.Repeat("m", 256*1024+1))}, "InvalidParameter"},
		{"empty attribute value", sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("m"),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{"app": str("")}}, "ParameterValueInvalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Publish(ctx, &tt.in)
			wantAPIError(t, err, tt.wantCode)
			if tt.wantCode == "NotFound" {
				var nf *snstypes.NotFoundException
				var re interface{ HTTPStatusCode() int }
				if !errors.As(err, &nf) || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusNotFound {
					t.Fatalf("want *types.NotFoundException with status 404, got %T: %v", err, err)
				}
			}
		})
	}
	if n := len(srv.Published(topic)); n != 0 {
		t.Fatalf("rejected messages were recorded: %d", n)
	}
}

// TestSNSAttributeNeedsDataType posts the form by hand: the SDK refuses to
// send an attribute without DataType, but other clients may.
func TestSNSAttributeNeedsDataType(t *testing.T) {
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	topic := srv.AddTopic("", "releases")
	form := url.Values{"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {topic}, "Message": {"m"},
		"MessageAttributes.entry.1.Name": {"kind"}, "MessageAttributes.entry.1.Value.StringValue": {"failed"}}
	resp, err := http.PostForm(srv.URL(), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	_, _ = io.Copy(&body, resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body.String(), "<Code>ParameterValueInvalid</Code>") ||
		!strings.Contains(body.String(), "non-empty message attribute type") {
		t.Fatalf("status %d: %s", resp.StatusCode, body.String())
	}
}
