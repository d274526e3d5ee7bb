package externaldns_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/externaldns"
)

func options(edit map[string]string) map[string]string {
	o := map[string]string{
		"blue.object":          "service/shop/app",
		"blue.set-identifier":  "cluster-a",
		"green.object":         "ingress/shop/app",
		"green.set-identifier": "cluster-b",
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
	got, err := externaldns.ParseOptions(traffic.Target{Name: "App.Example.com.", Options: options(nil)})
	want := externaldns.Config{Hostname: "app.example.com", Objects: map[string]externaldns.ColorObject{
		"blue":  {Object: externaldns.Object{Kind: externaldns.KindService, Namespace: "shop", Name: "app"}, SetIdentifier: "cluster-a"},
		"green": {Object: externaldns.Object{Kind: externaldns.KindIngress, Namespace: "shop", Name: "app"}, SetIdentifier: "cluster-b"},
	}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseOptions = %+v, %v\nwant %+v", got, err, want)
	}
	if c := got.Colors(); !reflect.DeepEqual(c, []string{"blue", "green"}) {
		t.Fatalf("Colors = %v", c)
	}
}

func TestParseOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		record  string
		options map[string]string
		want    []string
	}{
		{"no record name", "", options(nil), []string{"no record name"}},
		{"missing object", "app.example.com", options(map[string]string{"green.object": ""}), []string{`option "green.object" is missing`, "service/<namespace>/<name>"}},
		{"bad kind", "app.example.com", options(map[string]string{"green.object": "deployment/shop/app"}), []string{`option "green.object"`, `"deployment/shop/app" is not service/<namespace>/<name> or ingress/<namespace>/<name>`}},
		{"no namespace", "app.example.com", options(map[string]string{"blue.object": "service/app"}), []string{`option "blue.object"`}},
		{"bad namespace", "app.example.com", options(map[string]string{"blue.object": "service/Shop/app"}), []string{`namespace "Shop"`}},
		{"bad service name", "app.example.com", options(map[string]string{"blue.object": "service/shop/app.v2"}), []string{`name "app.v2"`}},
		{"missing set identifier", "app.example.com", options(map[string]string{"blue.set-identifier": ""}), []string{`option "blue.set-identifier" is missing`}},
		{"same set identifier", "app.example.com", options(map[string]string{"green.set-identifier": "cluster-a"}), []string{`colors blue and green have the same set identifier "cluster-a"`}},
		{"unknown key", "app.example.com", options(map[string]string{"zone": "Z1"}), []string{`option "zone" is unknown`}},
		{"one color", "app.example.com", options(map[string]string{"green.object": "", "green.set-identifier": ""}), []string{"1 color(s) configured, want two"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := externaldns.ParseOptions(traffic.Target{Name: tc.record, Options: tc.options})
			wantErr(t, err, append([]string{"external-dns options for"}, tc.want...)...)
		})
	}
}

func TestParseObject(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want externaldns.Object
		err  bool
	}{
		{in: "service/shop/app", want: externaldns.Object{Kind: externaldns.KindService, Namespace: "shop", Name: "app"}},
		{in: "ingress/shop/app.example", want: externaldns.Object{Kind: externaldns.KindIngress, Namespace: "shop", Name: "app.example"}},
		{in: "svc/shop/app", err: true},
		{in: "service/shop/app/extra", err: true},
		{in: "service//app", err: true},
		{in: "ingress/shop/", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := externaldns.ParseObject(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("ParseObject(%q) = %+v, %v; want %+v, error %t", tc.in, got, err, tc.want, tc.err)
			}
			if err == nil && got.String() != tc.in {
				t.Fatalf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error containing %q, got nil", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}
