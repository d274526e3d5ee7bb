package runstore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// A record with every kind of secret a run knows of: none survives sealing,
// every moved value comes back on unsealing, and prose only loses the
// secrets.
func TestSealMovesEverySecretOut(t *testing.T) {
	record := `{
	  "id": "r1", "app": "shop", "reason": "check healthz failed: Get \"https://user:pw-url-777@health.internal/?token=tok3n-abc\": EOF, DB_PASSWORD=pw-db-4242",
	  "spec": {"image": "shop:2", "env": {"DB_PASSWORD": "pw-db-4242", "LOG_LEVEL": "debug", "APP": "shop"},
	    "previewURL": "https://admin:hunter2@shop-preview.prod.svc/?access_token=pvtok-9",
	    "checks": [{"name": "hook", "webhook": {"url": "https://hooks.example.com/T0/B0/whsec-55", "headers": {"Authorization": "Bearer bear-777"}}}]},
	  "steps": [
	    {"name": "set-image", "description": "Set image of shop-green", "mutations": [{"object": "deployment/shop-green", "change": "env DB_PASSWORD set"}],
	     "before": {"image": "shop:1", "env": [{"name": "OLD_TOKEN", "value": "old-tok-31"}, {"name": "APP", "value": "shop"}, {"name": "FROM", "valueFrom": {"secretKeyRef": {"name": "db"}}}]},
	     "error": "rollout of shop-green: OLD_TOKEN=old-tok-31"}
	  ]}`
	var v any
	if err := json.Unmarshal([]byte(record), &v); err != nil {
		t.Fatal(err)
	}
	var orig any
	_ = json.Unmarshal([]byte(record), &orig)

	s := newSealer()
	sealed := s.seal(v)
	out, _ := json.Marshal(sealed)
	for _, secret := range []string{"pw-db-4242", "debug", "hunter2", "pvtok-9", "whsec-55", "bear-777", "old-tok-31", "pw-url-777", "tok3n-abc"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("sealed record holds %q:\n%s", secret, out)
		}
	}
	// Structure and the names of things stay readable.
	for _, keep := range []string{`"image":"shop:2"`, `"object":"deployment/shop-green"`, `"description":"Set image of shop-green"`, `"name":"OLD_TOKEN"`, `"secretKeyRef"`} {
		if !strings.Contains(string(out), keep) {
			t.Errorf("sealed record lost %s:\n%s", keep, out)
		}
	}

	data := map[string][]byte{}
	for k, val := range s.values {
		data[k] = []byte(val)
	}
	var again any
	_ = json.Unmarshal(out, &again)
	back, err := unseal(again, data)
	if err != nil {
		t.Fatal(err)
	}
	got, want := back.(map[string]any), orig.(map[string]any)
	if !reflect.DeepEqual(got["spec"], want["spec"]) {
		t.Errorf("spec after unsealing:\n%v\nwant\n%v", got["spec"], want["spec"])
	}
	gotStep, wantStep := got["steps"].([]any)[0].(map[string]any), want["steps"].([]any)[0].(map[string]any)
	if !reflect.DeepEqual(gotStep["before"], wantStep["before"]) {
		t.Errorf("before-state after unsealing:\n%v\nwant\n%v", gotStep["before"], wantStep["before"])
	}

	// A reference whose value is gone is an error, not an empty value.
	delete(data, s.anyKey())
	var third any
	_ = json.Unmarshal(out, &third)
	if _, err := unseal(third, data); err == nil || !strings.Contains(err.Error(), "does not hold") {
		t.Fatalf("unseal without a value = %v, want an error", err)
	}
}

func (s *sealer) anyKey() string {
	for k := range s.values {
		return k
	}
	return ""
}
