//go:build testbed

package nginx_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/nginx"
	"github.com/bluegreen/bluegreen/test/gatewaybed"
)

// pair is two real nginx gateways in front of a blue and a green backend.
type pair struct {
	gws   []*gatewaybed.Nginx
	site  nginx.Site
	set   *nginx.Set
	blue  *gatewaybed.Backend
	green *gatewaybed.Backend
}

func newPair(t *testing.T) *pair {
	t.Helper()
	p := &pair{
		gws:   []*gatewaybed.Nginx{gatewaybed.StartNginx(t, "gw-1"), gatewaybed.StartNginx(t, "gw-2")},
		blue:  gatewaybed.StartBackend(t, "blue", "payment", "v1"),
		green: gatewaybed.StartBackend(t, "green", "payment", "v2"),
	}
	p.site = nginx.Site{Product: "myapp", ProdHost: "myapp.com", PreprodHost: "preprod.myapp.com",
		Upstreams: map[string]nginx.Upstream{"blue": {Servers: []string{p.blue.Addr()}}, "green": {Servers: []string{p.green.Addr()}}}}
	if err := p.site.Validate(); err != nil {
		t.Fatal(err)
	}
	p.set = &nginx.Set{VerifyTimeout: 5 * time.Second}
	p.set.Gateways = gatewaybed.Gateways(p.gws...)
	return p
}

// serves checks, through every gateway, which color each host answers from.
func (p *pair) serves(t *testing.T, prod, preprod string) {
	t.Helper()
	for _, g := range p.gws {
		for host, want := range map[string]string{p.site.ProdHost: prod, p.site.PreprodHost: preprod} {
			resp, a, err := gatewaybed.Get(t.Context(), g.Address(), host, "/pay")
			if err != nil {
				t.Fatalf("%s via %s: %v", host, g.Name, err)
			}
			if resp.StatusCode != 200 || a.Color != want || resp.Header.Get(nginx.ColorHeader) != want {
				t.Fatalf("%s via %s: %s from %q (header %q), want 200 from %s", host, g.Name, resp.Status, a.Color, resp.Header.Get(nginx.ColorHeader), want)
			}
		}
	}
}

// files returns each gateway's file, to tell whether anything changed.
func (p *pair) files(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, g := range p.gws {
		data, err := os.ReadFile(filepath.Join(g.ConfigDir, p.site.FileName()))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out = append(out, string(data))
	}
	return out
}

// A switch moves production on both gateways, keeps preprod on the other
// color, and can be read back; repeating it changes nothing.
func TestSwitchMovesBothGateways(t *testing.T) {
	p := newPair(t)
	ctx := t.Context()
	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 100, "green": 0}, "green"); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	p.serves(t, "blue", "green")
	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 0, "green": 100}, "blue"); err != nil {
		t.Fatalf("switch: %v", err)
	}
	p.serves(t, "green", "blue")
	split, preprod, err := p.set.Observe(ctx, p.site)
	if err != nil || split["green"] != 100 || preprod != "blue" {
		t.Fatalf("Observe = %v, %q, %v; want green 100, preprod blue", split, preprod, err)
	}
	prev, err := os.ReadFile(filepath.Join(p.gws[0].ConfigDir, p.site.FileName()+".prev"))
	if err != nil || !strings.Contains(string(prev), `"blue":100`) {
		t.Fatalf("the previous file is not kept beside the new one: %v\n%s", err, prev)
	}
	before := p.files(t)
	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 0, "green": 100}, "blue"); err != nil {
		t.Fatalf("repeated switch: %v", err)
	}
	if after := p.files(t); strings.Join(after, "") != strings.Join(before, "") {
		t.Fatal("a repeated switch rewrote the files")
	}
	// A progressive shift weights both colors on every gateway.
	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 30, "green": 70}, "blue"); err != nil {
		t.Fatalf("30/70: %v", err)
	}
	for _, f := range p.files(t) {
		if !strings.Contains(f, "weight=30; # blue") || !strings.Contains(f, "weight=70; # green") {
			t.Fatalf("30/70 file lacks the weights:\n%s", f)
		}
	}
}

// A rendered file nginx rejects changes no gateway: the first is put back
// before the second is touched.
func TestRejectedConfigChangesNothing(t *testing.T) {
	p := newPair(t)
	ctx := t.Context()
	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 100, "green": 0}, "green"); err != nil {
		t.Fatal(err)
	}
	before := p.files(t)
	bad := p.site
	bad.Upstreams = map[string]nginx.Upstream{"blue": p.site.Upstreams["blue"], "green": {Servers: []string{"no-such-host.invalid:80"}}}
	err := p.set.Apply(ctx, bad, map[string]int{"blue": 0, "green": 100}, "blue")
	if err == nil || !strings.Contains(err.Error(), "gateway gw-1") || !strings.Contains(err.Error(), "nginx rejected") {
		t.Fatalf("apply of a file nginx rejects = %v, want an error naming gw-1 and nginx's rejection", err)
	}
	if after := p.files(t); strings.Join(after, "") != strings.Join(before, "") {
		t.Fatalf("a gateway's file changed:\nbefore %q\nafter  %q", before, after)
	}
	p.serves(t, "blue", "green")
}

// When the second gateway cannot take the switch, the first is put back:
// production is never split between gateways.
func TestFailingSecondGatewayPutsTheFirstBack(t *testing.T) {
	p := newPair(t)
	ctx := t.Context()
	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 100, "green": 0}, "green"); err != nil {
		t.Fatal(err)
	}
	// gw-2's first reload fails (its later ones work, as after a glitch).
	marker := filepath.Join(t.TempDir(), "failed-once")
	reload := strings.Join(p.gws[1].Reload(), " ")
	p.set.Gateways[1].Reload = []string{"sh", "-c", "if [ -e " + marker + " ]; then exec " + reload + "; fi; touch " + marker + "; echo 'reload refused' >&2; exit 1"}
	err := p.set.Apply(ctx, p.site, map[string]int{"blue": 0, "green": 100}, "blue")
	if err == nil || !strings.Contains(err.Error(), "gateway gw-2") || !strings.Contains(err.Error(), "every gateway is back") {
		t.Fatalf("apply with gw-2 failing = %v, want an error naming gw-2 that says every gateway is back", err)
	}
	p.serves(t, "blue", "green")
}

// An unreachable gateway, or one whose SSH host key is not the trusted
// one, stops the switch before any gateway is changed; one reached over
// SSH switches like a local one.
func TestGatewaysOverSSH(t *testing.T) {
	p := newPair(t)
	ctx := t.Context()
	sshd := gatewaybed.StartSSHD(t)
	remote := p.set.Gateways[1]
	remote.SSH = &nginx.SSHConfig{Address: sshd.Address, User: sshd.User, IdentityFile: sshd.IdentityFile, KnownHosts: sshd.KnownHosts}
	p.set.Gateways[1] = remote
	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 100, "green": 0}, "green"); err != nil {
		t.Fatalf("apply with gw-2 over SSH: %v", err)
	}
	p.serves(t, "blue", "green")
	before := p.files(t)

	for name, mutate := range map[string]func(*nginx.SSHConfig){
		"host key mismatch": func(c *nginx.SSHConfig) { c.KnownHosts = sshd.WrongKnownHosts(t) },
		"unreachable":       func(c *nginx.SSHConfig) { c.Address = "127.0.0.1:1" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := *remote.SSH
			mutate(&cfg)
			set := *p.set
			set.Gateways = []nginx.Gateway{p.set.Gateways[0], remote}
			set.Gateways[1].SSH = &cfg
			err := set.Apply(ctx, p.site, map[string]int{"blue": 0, "green": 100}, "blue")
			if err == nil || !strings.Contains(err.Error(), "gateway gw-2") || !strings.Contains(err.Error(), "no gateway was changed") {
				t.Fatalf("apply = %v, want an error naming gw-2 that says no gateway was changed", err)
			}
			if name == "host key mismatch" && !strings.Contains(err.Error(), "does not match") {
				t.Fatalf("apply = %v, want it to say the host key does not match", err)
			}
			if after := p.files(t); strings.Join(after, "") != strings.Join(before, "") {
				t.Fatal("a gateway's file changed")
			}
			p.serves(t, "blue", "green")
		})
	}

	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 0, "green": 100}, "blue"); err != nil {
		t.Fatalf("switch with gw-2 over SSH: %v", err)
	}
	p.serves(t, "green", "blue")
}

// A gateway whose config folder is missing stops the switch before any
// gateway is changed, naming the gateway and the folder.
func TestMissingConfigFolderChangesNothing(t *testing.T) {
	p := newPair(t)
	ctx := t.Context()
	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 100, "green": 0}, "green"); err != nil {
		t.Fatal(err)
	}
	before := p.files(t)
	p.set.Gateways[1].ConfigDir = filepath.Join(t.TempDir(), "no-such-folder")
	err := p.set.Apply(ctx, p.site, map[string]int{"blue": 0, "green": 100}, "blue")
	if err == nil || !strings.Contains(err.Error(), "gateway gw-2: config folder") || !strings.Contains(err.Error(), "no gateway was changed") {
		t.Fatalf("apply = %v, want an error naming gw-2's config folder that says no gateway was changed", err)
	}
	if after := p.files(t); strings.Join(after, "") != strings.Join(before, "") {
		t.Fatal("a gateway's file changed")
	}
	p.serves(t, "blue", "green")
}

// Gateways whose files disagree (a switch cut short) are reported, each
// named with its split; a switch puts them back in step.
func TestObserveReportsDisagreeingGateways(t *testing.T) {
	p := newPair(t)
	ctx := t.Context()
	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 100, "green": 0}, "green"); err != nil {
		t.Fatal(err)
	}
	one := &nginx.Set{Gateways: p.set.Gateways[1:], VerifyTimeout: 5 * time.Second}
	if err := one.Apply(ctx, p.site, map[string]int{"blue": 0, "green": 100}, "blue"); err != nil {
		t.Fatal(err)
	}
	_, _, err := p.set.Observe(ctx, p.site)
	if err == nil || !strings.Contains(err.Error(), "gw-1 sends production to blue") || !strings.Contains(err.Error(), "gw-2 sends production to green") {
		t.Fatalf("Observe of split gateways = %v, want both named with their color", err)
	}
	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 0, "green": 100}, "blue"); err != nil {
		t.Fatal(err)
	}
	p.serves(t, "green", "blue")
	if _, _, err := p.set.Observe(ctx, p.site); err != nil {
		t.Fatalf("Observe after the gateways were put in step: %v", err)
	}
}

// A spec whose hosts are not the ones the gateways route is refused when
// read, before a switch could move another host; a gateway without the
// file says the product is not adopted.
func TestObserveRefusesHostsTheGatewaysDoNotRoute(t *testing.T) {
	p := newPair(t)
	ctx := t.Context()
	if _, _, err := p.set.Observe(ctx, p.site); !errors.Is(err, traffic.ErrNotAdopted) || !strings.Contains(err.Error(), "gateway gw-1 has no ") || !strings.Contains(err.Error(), "bluegreen-myapp.conf: not adopted") {
		t.Fatalf("Observe before any file = %v, want ErrNotAdopted naming gw-1", err)
	}
	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 100, "green": 0}, "green"); err != nil {
		t.Fatal(err)
	}
	other := p.site
	other.ProdHost = "shop.com"
	_, _, err := p.set.Observe(ctx, other)
	if err == nil || !strings.Contains(err.Error(), "gateway gw-1 routes production host myapp.com and preprod host preprod.myapp.com for myapp, not shop.com and preprod.myapp.com") {
		t.Fatalf("Observe with another production host = %v", err)
	}
	if _, _, err := p.set.Observe(ctx, p.site); err != nil {
		t.Fatalf("Observe with the routed hosts: %v", err)
	}
}
