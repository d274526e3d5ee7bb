package nginx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Gateway is one nginx of the HA set.
type Gateway struct {
	// Name names the gateway in messages, e.g. "gw-1".
	Name string `json:"name"`
	// Address is where production requests reach this nginx (host:port of
	// the site's listen): the verification requests go there.
	Address string `json:"address"`
	// Listen, when set, replaces the site's listen on this gateway (two
	// gateways on one machine need two ports).
	Listen string `json:"listen,omitempty"`
	// ConfigDir is a folder nginx's http block includes (*.conf), e.g.
	// /etc/nginx/conf.d; the site's file is written there.
	ConfigDir string `json:"configDir"`
	// Test validates the configuration (default: nginx -t); Reload reloads
	// it gracefully (default: nginx -s reload).
	Test   []string `json:"test,omitempty"`
	Reload []string `json:"reload,omitempty"`
	// SSH, when set, reaches the gateway over SSH; otherwise its files and
	// commands are on this machine.
	SSH *SSHConfig `json:"ssh,omitempty"`
}

// Validate checks the gateway's fields, naming them.
func (g Gateway) Validate() error {
	switch {
	case g.Name == "":
		return errors.New("name: required, e.g. gw-1")
	case g.ConfigDir == "" || !path.IsAbs(g.ConfigDir):
		return fmt.Errorf("gateway %s: configDir %q: want the absolute path of a folder nginx includes, e.g. /etc/nginx/conf.d", g.Name, g.ConfigDir)
	case g.SSH != nil && g.SSH.Address == "":
		return fmt.Errorf("gateway %s: ssh.address: required, e.g. 10.0.0.5 or gw-1.internal:22", g.Name)
	}
	if g.Listen != "" && !validListen(g.Listen) {
		return fmt.Errorf("gateway %s: listen %q: want a port (80) or an address and port (127.0.0.1:8080)", g.Name, g.Listen)
	}
	if _, _, err := net.SplitHostPort(g.Address); err != nil {
		return fmt.Errorf("gateway %s: address %q: want host:port where the gateway serves the site, e.g. 10.0.0.5:80", g.Name, g.Address)
	}
	return nil
}

func (g Gateway) test() []string {
	if len(g.Test) > 0 {
		return g.Test
	}
	return []string{"nginx", "-t"}
}

func (g Gateway) reload() []string {
	if len(g.Reload) > 0 {
		return g.Reload
	}
	return []string{"nginx", "-s", "reload"}
}

// Set is the HA set of gateways a site is served by.
type Set struct {
	Gateways []Gateway
	// Dial reaches a gateway (default: Local, or DialSSH when it has SSH).
	Dial func(ctx context.Context, g Gateway) (Transport, error)
	// HTTP sends the verification requests (default: a client without
	// keep-alive, so that every check meets the workers nginx runs now).
	HTTP *http.Client
	// VerifyTimeout bounds how long a reloaded gateway may take to answer
	// with the new file (default 10 s).
	VerifyTimeout time.Duration
	Clock         clock.Clock
	Log           *slog.Logger
	// AfterEach, when set, is called after each gateway has switched (tests
	// kill the process there: a switch cut short between two gateways).
	AfterEach func(gateway string)
}

func (s *Set) dial(ctx context.Context, g Gateway) (Transport, error) {
	if s.Dial != nil {
		return s.Dial(ctx, g)
	}
	if g.SSH != nil {
		return DialSSH(ctx, *g.SSH)
	}
	return Local{}, nil
}

func (s *Set) clock() clock.Clock {
	if s.Clock == nil {
		return clock.Real{}
	}
	return s.Clock
}

func (s *Set) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// conn is a dialled gateway with the site's file as it was found.
type conn struct {
	g    Gateway
	t    Transport
	file string
	prev []byte // nil: there was no file
	// adopt is the site's file to adopt on this gateway, and adoptPrev its
	// content while it still serves the hosts (nil: none, or adopted).
	adopt     string
	adoptPrev []byte
}

// adoptedPrefix starts the note an adopted file is left holding.
const adoptedPrefix = "# bluegreen-adopted: "

// adoptedNote is what an adopted file holds once bluegreen serves its hosts.
func adoptedNote(site Site, file string) []byte {
	return []byte(fmt.Sprintf("%sthis file served %s and %s; bluegreen serves them from %s now.\n# The original is kept as %s%s.\n",
		adoptedPrefix, site.ProdHost, site.PreprodHost, site.FileName(), path.Base(file), AdoptedSuffix))
}

// open dials every gateway and reads the site's file on each, before
// anything is changed: an unreachable gateway, or one whose host key is
// wrong, stops the switch with every gateway as it was.
func (s *Set) open(ctx context.Context, site Site) ([]*conn, error) {
	if len(s.Gateways) == 0 {
		return nil, errors.New("no gateway")
	}
	var conns []*conn
	for _, g := range s.Gateways {
		t, err := s.dial(ctx, g)
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("gateway %s: %w; no gateway was changed", g.Name, err)
		}
		c := &conn{g: g, t: t, file: path.Join(g.ConfigDir, site.FileName())}
		conns = append(conns, c)
		if err := t.CheckDir(ctx, g.ConfigDir); err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("gateway %s: config folder %s: %w (fix configDir, or its owner); no gateway was changed", g.Name, g.ConfigDir, err)
		}
		data, err := t.ReadFile(ctx, c.file)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			closeAll(conns)
			return nil, fmt.Errorf("gateway %s: read %s: %w; no gateway was changed", g.Name, c.file, err)
		default:
			if _, ours := parseHeader(data); !ours {
				closeAll(conns)
				return nil, fmt.Errorf("gateway %s: %s exists and was not written by bluegreen: move it aside (bluegreen owns this file name); no gateway was changed", g.Name, c.file)
			}
			c.prev = data
		}
		if site.Adopt != "" {
			c.adopt = path.Join(g.ConfigDir, site.Adopt)
			data, err := t.ReadFile(ctx, c.adopt)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				closeAll(conns)
				return nil, fmt.Errorf("gateway %s: read %s: %w; no gateway was changed", g.Name, c.adopt, err)
			case !bytes.HasPrefix(data, []byte(adoptedPrefix)):
				c.adoptPrev = data
			}
		}
	}
	return conns, nil
}

func closeAll(conns []*conn) {
	for _, c := range conns {
		_ = c.t.Close()
	}
}

// Observe returns the split production gets and the color preprod reaches,
// as the gateways' files say. Gateways that disagree (a switch cut short
// between two of them) are an error naming each one's split: a Shift puts
// them back in step.
func (s *Set) Observe(ctx context.Context, site Site) (map[string]int, string, error) {
	conns, err := s.open(ctx, site)
	if err != nil {
		return nil, "", err
	}
	defer closeAll(conns)
	var first *header
	var seen []string
	for _, c := range conns {
		if c.prev == nil {
			return nil, "", fmt.Errorf("gateway %s has no %s: %w", c.g.Name, c.file, traffic.ErrNotAdopted)
		}
		h, _ := parseHeader(c.prev)
		if len(h.Hosts) == 2 && (h.Hosts[0] != site.ProdHost || h.Hosts[1] != site.PreprodHost) {
			// A switch would move hosts this file does not route, and stop
			// routing the ones it does.
			return nil, "", fmt.Errorf("gateway %s routes production host %s and preprod host %s for %s, not %s and %s: fix gateway.prodHost and gateway.preprodHost, or adopt the new hosts with `bluegreen namespace init`",
				c.g.Name, h.Hosts[0], h.Hosts[1], site.Product, site.ProdHost, site.PreprodHost)
		}
		seen = append(seen, fmt.Sprintf("%s sends production to %s", c.g.Name, splitLabel(h.Prod)))
		if first == nil {
			first = &h
		} else if splitLabel(h.Prod) != splitLabel(first.Prod) || h.Preprod != first.Preprod {
			return nil, "", fmt.Errorf("the gateways disagree: %s; a switch was cut short: resume or roll back to put them in step", strings.Join(seen, ", "))
		}
	}
	return first.Prod, first.Preprod, nil
}

// Apply makes every gateway send production to split and the preprod host
// to preprod: on each in turn it writes the file atomically (the previous
// one kept beside it as .prev), validates the configuration, reloads nginx
// gracefully and checks through the gateway that both hosts answer from
// the new colors. If any gateway fails, every gateway already changed is
// put back, and the error names the gateway: production is never left
// split between gateways. A gateway already serving the file is only
// checked, so Apply is safe to repeat.
func (s *Set) Apply(ctx context.Context, site Site, split map[string]int, preprod string) error {
	if _, err := site.Render(split, preprod); err != nil {
		return err
	}
	conns, err := s.open(ctx, site)
	if err != nil {
		return err
	}
	defer closeAll(conns)
	for i, c := range conns {
		on := site
		if c.g.Listen != "" {
			on.Listen = c.g.Listen
		}
		want, _ := on.Render(split, preprod)
		if err := s.switchOne(ctx, site, c, want, split, preprod); err != nil {
			back := s.putBack(context.WithoutCancel(ctx), site, conns[:i+1])
			msg := fmt.Errorf("gateway %s: %w", c.g.Name, err)
			if back != nil {
				return fmt.Errorf("%w; putting the gateways back also failed: %w", msg, back)
			}
			return fmt.Errorf("%w; every gateway is back as it was", msg)
		}
		if s.AfterEach != nil {
			s.AfterEach(c.g.Name)
		}
	}
	return nil
}

func (s *Set) switchOne(ctx context.Context, site Site, c *conn, want []byte, split map[string]int, preprod string) error {
	if string(c.prev) == string(want) && c.adoptPrev == nil {
		if err := s.verify(ctx, site, c.g, splitLabel(split), preprod); err == nil {
			return nil
		}
		// The file is right but nginx does not serve it (a reload that a
		// crash cut short): reload.
	} else {
		if c.prev != nil {
			if err := c.t.WriteFile(ctx, c.file+".prev", c.prev); err != nil {
				return err
			}
		}
		if c.adoptPrev != nil {
			// The copy first: the original is never only in memory.
			if err := c.t.WriteFile(ctx, c.adopt+AdoptedSuffix, c.adoptPrev); err != nil {
				return err
			}
		}
		if err := c.t.WriteFile(ctx, c.file, want); err != nil {
			return err
		}
		if c.adoptPrev != nil {
			// Emptied in the same reload that brings bluegreen's file in:
			// the hosts are never served twice, nor not at all.
			if err := c.t.WriteFile(ctx, c.adopt, adoptedNote(site, c.adopt)); err != nil {
				return err
			}
		}
		if _, err := c.t.Run(ctx, c.g.test()); err != nil {
			return fmt.Errorf("nginx rejected the new configuration: %w", err)
		}
	}
	if _, err := c.t.Run(ctx, c.g.reload()); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if err := s.verify(ctx, site, c.g, splitLabel(split), preprod); err != nil {
		return err
	}
	s.log().Info("gateway switched", "gateway", c.g.Name, "production", splitLabel(split), "preprod", preprod)
	return nil
}

// putBack restores each gateway's file as it was found, and reloads.
func (s *Set) putBack(ctx context.Context, site Site, conns []*conn) error {
	var errs []error
	for _, c := range conns {
		var err error
		if c.prev == nil {
			err = c.t.WriteFile(ctx, c.file, emptyFile(site))
		} else {
			err = c.t.WriteFile(ctx, c.file, c.prev)
		}
		if err == nil && c.adoptPrev != nil {
			err = c.t.WriteFile(ctx, c.adopt, c.adoptPrev)
		}
		if err == nil {
			_, err = c.t.Run(ctx, c.g.test())
		}
		if err == nil {
			_, err = c.t.Run(ctx, c.g.reload())
		}
		// Back means serving the old file again, not only holding it: a
		// reload takes effect once nginx's new workers take requests.
		if h, ok := parseHeader(c.prev); err == nil && ok && len(h.Prod) > 0 {
			err = s.verify(ctx, site, c.g, splitLabel(h.Prod), h.Preprod)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("gateway %s: %w", c.g.Name, err))
		}
	}
	return errors.Join(errs...)
}

// emptyFile is what a gateway that had no file gets back: a comment, so
// that nginx routes nothing for the site, as before.
func emptyFile(site Site) []byte {
	return []byte("# bluegreen: {}\n# Written by bluegreen for product " + site.Product + ": it routes nothing yet.\n")
}

// verify requests the site through the gateway until both hosts answer
// from the colors of the new file, or the timeout passes.
func (s *Set) verify(ctx context.Context, site Site, g Gateway, prodLabel, preprod string) error {
	timeout := s.VerifyTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	clk := s.clock()
	deadline := clk.Now().Add(timeout)
	var last error
	for {
		last = s.check(ctx, site, g, site.ProdHost, prodLabel)
		if last == nil {
			last = s.check(ctx, site, g, site.PreprodHost, preprod)
		}
		if last == nil {
			return nil
		}
		if !clk.Now().Before(deadline) {
			return fmt.Errorf("verify through the gateway (%s): %w", timeout, last)
		}
		if err := clk.SleepUntil(ctx, clk.Now().Add(50*time.Millisecond)); err != nil {
			return errors.Join(last, err)
		}
	}
}

func (s *Set) check(ctx context.Context, site Site, g Gateway, host, want string) error {
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	}
	p := site.VerifyPath
	if p == "" {
		p = "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+g.Address+p, nil)
	if err != nil {
		return err
	}
	req.Host = host
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s%s: %w", host, p, err)
	}
	_ = resp.Body.Close()
	got := resp.Header.Get(ColorHeader)
	switch {
	case got != want:
		return fmt.Errorf("GET %s%s answered from %q, want %q", host, p, got, want)
	case resp.StatusCode >= 500:
		return fmt.Errorf("GET %s%s: %s from %s", host, p, resp.Status, want)
	}
	return nil
}
