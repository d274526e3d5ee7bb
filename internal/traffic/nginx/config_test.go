package nginx

import (
	"strings"
	"testing"
)

func site() Site {
	return Site{Product: "myapp", ProdHost: "myapp.com", PreprodHost: "preprod.myapp.com", Listen: "8080",
		Upstreams: map[string]Upstream{"blue": {Servers: []string{"10.0.1.10:80"}, Host: "blue.myapp.internal"}, "green": {Servers: []string{"10.0.2.10:80", "10.0.2.11:80"}}}}
}

func TestSiteValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Site)
		want   string
	}{
		{"valid", func(*Site) {}, ""},
		{"product with capitals", func(s *Site) { s.Product = "MyApp" }, "product"},
		{"same hosts", func(s *Site) { s.PreprodHost = s.ProdHost }, "preprodHost"},
		{"one color", func(s *Site) { delete(s.Upstreams, "green") }, "exactly two colors"},
		{"server without port", func(s *Site) { s.Upstreams["green"] = Upstream{Servers: []string{"10.0.2.10"}} }, "is not host:port"},
		{"server injecting a directive", func(s *Site) { s.Upstreams["green"] = Upstream{Servers: []string{"10.0.2.10:80; include /etc/passwd"}} }, "is not host:port"},
		{"bad listen", func(s *Site) { s.Listen = "eighty" }, "listen"},
		{"relative verify path", func(s *Site) { s.VerifyPath = "healthz" }, "verifyPath"},
		{"adopt a file", func(s *Site) { s.Adopt = "myapp.conf" }, ""},
		{"adopt a path", func(s *Site) { s.Adopt = "../nginx.conf" }, "adopt"},
		{"adopt a file nginx does not include", func(s *Site) { s.Adopt = "myapp" }, "adopt"},
		{"adopt bluegreen's own file", func(s *Site) { s.Adopt = s.FileName() }, "adopt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := site()
			tt.mutate(&s)
			err := s.Validate()
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

// The file routes production by weight (a color at 0 left out), preprod to
// its color, says which in a header nginx adds, and reads back.
func TestRender(t *testing.T) {
	s := site()
	tests := []struct {
		split           map[string]int
		preprod         string
		want, wantNot   []string
		label, hostName string
	}{
		{map[string]int{"blue": 100, "green": 0}, "green",
			[]string{"server 10.0.1.10:80 weight=100; # blue", "server 10.0.2.10:80; # green", "add_header X-Bluegreen-Color blue always;", "proxy_set_header Host blue.myapp.internal;", "listen 8080;"},
			[]string{"10.0.2.10:80 weight"}, "blue", ""},
		{map[string]int{"blue": 30, "green": 70}, "blue",
			[]string{"server 10.0.1.10:80 weight=30; # blue", "server 10.0.2.11:80 weight=70; # green", "add_header X-Bluegreen-Color blue=30,green=70 always;", "proxy_set_header Host $host;"},
			nil, "blue=30,green=70", ""},
	}
	for _, tt := range tests {
		out, err := s.Render(tt.split, tt.preprod)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("split %v: file lacks %q:\n%s", tt.split, w, out)
			}
		}
		for _, w := range tt.wantNot {
			if strings.Contains(string(out), w) {
				t.Errorf("split %v: file has %q:\n%s", tt.split, w, out)
			}
		}
		h, ok := parseHeader(out)
		if !ok || splitLabel(h.Prod) != tt.label || h.Preprod != tt.preprod {
			t.Errorf("header read back = %+v, %v", h, ok)
		}
	}
	for _, bad := range []map[string]int{{"blue": 50, "green": 40}, {"blue": 100, "red": 0}} {
		if _, err := s.Render(bad, "green"); err == nil {
			t.Errorf("Render(%v) succeeded", bad)
		}
	}
}
