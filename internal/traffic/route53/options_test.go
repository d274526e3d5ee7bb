package route53_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/route53"
)

// cnameOptions is a valid CNAME configuration with edits on top; an empty
// value removes the key.
func cnameOptions(edit map[string]string) map[string]string {
	o := map[string]string{
		"zone":                 "Z0123",
		"blue.set-identifier":  "cluster-a",
		"blue.value":           blueLB,
		"green.set-identifier": "cluster-b",
		"green.value":          greenLB,
	}
	for k, v := range edit {
		if v == "" {
			delete(o, k)
			continue
		}
		o[k] = v
	}
	return o
}

func aliasOptions(edit map[string]string) map[string]string {
	o := map[string]string{
		"zone":                 "Z0123",
		"type":                 "A",
		"blue.set-identifier":  "cluster-a",
		"blue.alias":           "dualstack.a-1234.us-east-1.elb.amazonaws.com",
		"blue.alias-zone":      "Z35SXDOTRQ7X7K",
		"green.set-identifier": "cluster-b",
		"green.alias":          "dualstack.b-5678.us-east-1.elb.amazonaws.com",
		"green.alias-zone":     "Z35SXDOTRQ7X7K",
	}
	for k, v := range edit {
		if v == "" {
			delete(o, k)
			continue
		}
		o[k] = v
	}
	return o
}

func TestParseOptions(t *testing.T) {
	want := route53.Config{
		Name: "app.example.com.", Zone: "Z0123", Type: "CNAME", TTL: 60,
		SyncTimeout: 2 * time.Minute, PollInterval: time.Second,
		Records: map[string]route53.Record{
			"blue":  {SetIdentifier: "cluster-a", Value: blueLB},
			"green": {SetIdentifier: "cluster-b", Value: greenLB},
		},
	}
	got, err := route53.ParseOptions(traffic.Target{Name: "App.Example.com", Options: cnameOptions(nil)})
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults: ParseOptions = %+v, %v\nwant %+v", got, err, want)
	}
	if c := got.Colors(); !reflect.DeepEqual(c, []string{"blue", "green"}) {
		t.Fatalf("Colors = %v", c)
	}

	got, err = route53.ParseOptions(traffic.Target{Name: "app.example.com.", Options: aliasOptions(map[string]string{
		"zone": "/hostedzone/Z0123", "green.evaluate-health": "true", "sync-timeout": "30s", "poll-interval": "250ms",
	})})
	if err != nil {
		t.Fatalf("alias: %v", err)
	}
	if got.Zone != "Z0123" || got.Type != "A" || got.SyncTimeout != 30*time.Second || got.PollInterval != 250*time.Millisecond {
		t.Fatalf("alias: %+v", got)
	}
	wantGreen := route53.Alias{DNSName: "dualstack.b-5678.us-east-1.elb.amazonaws.com.", HostedZoneID: "Z35SXDOTRQ7X7K", EvaluateTargetHealth: true}
	if a := got.Records["green"].Alias; a == nil || *a != wantGreen || got.Records["blue"].Alias.EvaluateTargetHealth {
		t.Fatalf("alias records: %+v", got.Records)
	}
}

func TestParseOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		record  string
		options map[string]string
		want    []string // substrings of the error
	}{
		{"missing zone", record, cnameOptions(map[string]string{"zone": ""}), []string{`option "zone" is missing`, "hosted zone"}},
		{"bad type", record, cnameOptions(map[string]string{"type": "MX"}), []string{`option "type" is "MX"`, "A, AAAA or CNAME"}},
		{"ttl not a number", record, cnameOptions(map[string]string{"ttl": "1m"}), []string{`option "ttl" is "1m"`, "whole number of seconds"}},
		{"negative ttl", record, cnameOptions(map[string]string{"ttl": "-5"}), []string{`option "ttl" is "-5"`}},
		{"ttl on alias records", record, aliasOptions(map[string]string{"ttl": "60"}), []string{`option "ttl" is set but every color is an alias`}},
		{"bad sync timeout", record, cnameOptions(map[string]string{"sync-timeout": "soon"}), []string{`option "sync-timeout" is "soon"`, "duration"}},
		{"zero poll interval", record, cnameOptions(map[string]string{"poll-interval": "0s"}), []string{`option "poll-interval" is "0s"`}},
		{"no record name", "", cnameOptions(nil), []string{"no record name"}},
		{"missing set identifier", record, cnameOptions(map[string]string{"green.set-identifier": ""}), []string{`option "green.set-identifier" is missing`}},
		{"missing value", record, cnameOptions(map[string]string{"green.value": ""}), []string{`option "green.value" is missing`, `"green.alias"`}},
		{"value and alias", record, cnameOptions(map[string]string{"blue.alias": "x.elb.amazonaws.com", "blue.alias-zone": "Z1"}), []string{`"blue.value" and "blue.alias" are both set`}},
		{"alias without zone", record, aliasOptions(map[string]string{"blue.alias-zone": ""}), []string{`option "blue.alias-zone" is missing`}},
		{"bad evaluate-health", record, aliasOptions(map[string]string{"blue.evaluate-health": "yes please"}), []string{`option "blue.evaluate-health" is "yes please"`, "true or false"}},
		{"alias zone on a plain record", record, cnameOptions(map[string]string{"blue.alias-zone": "Z1"}), []string{"apply to alias records only"}},
		{"A record with a host name", record, cnameOptions(map[string]string{"type": "A"}), []string{`option "blue.value"`, "IPv4 address"}},
		{"AAAA record with IPv4", record, cnameOptions(map[string]string{"type": "AAAA", "blue.value": "10.0.0.1", "green.value": "::1"}), []string{`option "blue.value" is "10.0.0.1"`, "IPv6"}},
		{"CNAME to an IP", record, cnameOptions(map[string]string{"blue.value": "10.0.0.1"}), []string{`option "blue.value" is "10.0.0.1"`, "host name"}},
		{"unknown key", record, cnameOptions(map[string]string{"blue.set-identifer": "x"}), []string{`option "blue.set-identifer" is unknown`}},
		{"one color", record, cnameOptions(map[string]string{"green.set-identifier": "", "green.value": ""}), []string{"1 color(s) configured, want two"}},
		{"same set identifier", record, cnameOptions(map[string]string{"green.set-identifier": "cluster-a"}), []string{`colors blue and green have the same set identifier "cluster-a"`}},
		{"several problems at once", record, cnameOptions(map[string]string{"zone": "", "type": "TXT"}), []string{`"zone" is missing`, `"type" is "TXT"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := route53.ParseOptions(traffic.Target{Name: tc.record, Options: tc.options})
			wantErr(t, err, append([]string{"route53 options for"}, tc.want...)...)
		})
	}
}
