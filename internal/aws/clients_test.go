package aws

import (
	"context"
	"errors"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

// TestSNSGoesThroughTheGate: a run that lost its lock must not publish
// one more notification than it may make any other AWS call.
func TestSNSGoesThroughTheGate(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	topic := srv.AddTopic("eu-west-1", "releases")
	errLost := errors.New("lease lost")
	var closed bool
	cfg, err := Config(context.Background(), Options{Region: "eu-west-1", Endpoint: srv.URL(), Gate: func() error {
		if closed {
			return errLost
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := NewSNS(cfg)
	in := &sns.PublishInput{TopicArn: sdkaws.String(topic), Message: sdkaws.String("m")}
	if _, err := c.Publish(context.Background(), in); err != nil {
		t.Fatalf("Publish through an open gate: %v", err)
	}
	closed = true
	if _, err := c.Publish(context.Background(), in); !errors.Is(err, errLost) {
		t.Fatalf("Publish through a closed gate: %v, want %v", err, errLost)
	}
	if n := len(srv.Published(topic)); n != 1 {
		t.Fatalf("fake got %d messages, want only the one sent before the gate closed", n)
	}
}

// A machine with no credentials at all fails in Load, naming where the
// chain looked and how to fix it; with credentials, Load succeeds.
func TestLoadRequiringCredentials(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
	}
	none := t.TempDir() + "/none"
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

	_, err := Config(t.Context(), Options{Region: "eu-west-1", RequireCredentials: true})
	if !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("Load with no credentials: %v; want ErrNoCredentials", err)
	}
	for _, want := range []string{"region eu-west-1", "AWS_ACCESS_KEY_ID", `profile "default" of ` + none, "instance's role", "aws sso login", "--aws-profile"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	if _, err := Config(t.Context(), Options{Region: "eu-west-1", RequireCredentials: true}); err != nil {
		t.Fatalf("Load with credentials in the environment: %v", err)
	}
}
