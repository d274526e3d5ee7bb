package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

// TestDeployNotifiesJSONWebhookAndSNS: a release tells a JSON webhook and
// an SNS topic (on the AWS wire fake) what happened, in their own formats.
func TestDeployNotifiesJSONWebhookAndSNS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Given shop on blue, a JSON webhook and an SNS topic
	e.givenBlueGreenApp("shop", v1, 2)
	hooks := newWebhookServer(t)
	fake := awsfake.New(awsfake.Options{}).StartT(t)
	topic := fake.AddTopic("eu-west-1", "releases")
	awsEnv := []string{"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "BLUEGREEN_AWS_ENDPOINT=" + fake.URL()}

	// When a release runs, notifying both
	r := e.cli(awsEnv, "deploy", "shop", "--image", v2, "--yes",
		"--notify", "json+"+hooks.URL+secretPath, "--notify", "sns:"+topic)
	if r.code != 0 {
		t.Fatalf("deploy: %s", r)
	}

	// Then the webhook got one JSON document per transition
	var kinds []string
	for _, line := range strings.Split(hooks.received(), "\n") {
		path, body, _ := strings.Cut(line, " ")
		var ev map[string]string
		if path != secretPath || json.Unmarshal([]byte(body), &ev) != nil {
			t.Fatalf("not a JSON notification: %q", line)
		}
		if ev["app"] != "shop" || ev["namespace"] != e.ns || ev["image"] != v2 || ev["run"] == "" || ev["time"] == "" {
			t.Fatalf("notification lacks the release's facts: %s", body)
		}
		kinds = append(kinds, ev["kind"])
	}
	if strings.Join(kinds, ",") != "started,promoted" {
		t.Fatalf("JSON notifications %v, want started,promoted", kinds)
	}
	// And the topic got the same transitions with filterable attributes
	msgs := fake.Published(topic)
	if len(msgs) != 2 || msgs[1].Attributes["kind"].StringValue != "promoted" ||
		msgs[1].Attributes["namespace"].StringValue != e.ns || !strings.Contains(msgs[1].Subject, "shop promoted to green") {
		t.Fatalf("sns messages: %+v", msgs)
	}
	// And no output names the webhook's secret
	if strings.Contains(r.stdout+r.stderr, secretPath) {
		t.Fatalf("output leaks the webhook secret:\n%s", r)
	}
}
