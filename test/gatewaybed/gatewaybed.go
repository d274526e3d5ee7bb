// Package gatewaybed runs the real parts the namespace scope's gateways are
// tested with: nginx processes from the machine's Debian package on
// loopback ports, HTTP backends standing in for each namespace's ingress,
// and an OpenSSH server for the SSH transport. Every process is stopped by
// the test's cleanup.
package gatewaybed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/traffic/nginx"
)

// NginxBin is the nginx binary the tests run ($BLUEGREEN_NGINX, else
// nginx from PATH or /usr/sbin).
func NginxBin() (string, error) {
	if p := os.Getenv("BLUEGREEN_NGINX"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx", nil
	}
	return "", errors.New("nginx not found: install it (apt-get install -y nginx; `make test` does) or set BLUEGREEN_NGINX")
}

// Nginx is one nginx gateway: its own prefix folder, config and port.
type Nginx struct {
	Name      string
	Dir       string // prefix: nginx.conf, conf.d/, logs/
	ConfigDir string // conf.d, included by the http block
	Port      int    // the port sites listen on
	bin       string
	cmd       *exec.Cmd
}

// Conf is the main configuration file.
func (n *Nginx) Conf() string { return filepath.Join(n.Dir, "nginx.conf") }

// Address is host:port where sites are served.
func (n *Nginx) Address() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port)) }

// Test and Reload are the gateway's commands for this instance.
func (n *Nginx) Test() []string { return []string{n.bin, "-t", "-q", "-p", n.Dir, "-c", n.Conf()} }

// Reload is the command that reloads this instance gracefully.
func (n *Nginx) Reload() []string {
	return []string{n.bin, "-s", "reload", "-p", n.Dir, "-c", n.Conf()}
}

// StartNginx starts a gateway named name; it is stopped at the test's end.
func StartNginx(t testing.TB, name string) *Nginx {
	t.Helper()
	n, err := NewNginx(name, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Stop)
	return n
}

// NewNginx starts a gateway named name with its files in dir, on a free
// loopback port; the caller stops it.
func NewNginx(name, dir string) (*Nginx, error) {
	bin, err := NginxBin()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	n := &Nginx{Name: name, Dir: dir, ConfigDir: filepath.Join(dir, "conf.d"), Port: port, bin: bin}
	for _, d := range []string{n.ConfigDir, filepath.Join(dir, "logs"), filepath.Join(dir, "temp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// Workers run as the user running the test: root in CI.
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n"
	}
	conf := fmt.Sprintf(`%sdaemon off;
worker_processes %[4]d;
pid %[2]s/nginx.pid;
error_log %[2]s/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %[2]s/temp/body;
    proxy_temp_path %[2]s/temp/proxy;
    fastcgi_temp_path %[2]s/temp/fastcgi;
    uwsgi_temp_path %[2]s/temp/uwsgi;
    scgi_temp_path %[2]s/temp/scgi;
    keepalive_requests 100000;
    include %[2]s/conf.d/*.conf;
    # Nothing else is served: a host bluegreen does not route is refused.
    server { listen %[3]d default_server; return 421; }
}
`, user, dir, n.Port, workers)
	if err := os.WriteFile(n.Conf(), []byte(conf), 0o644); err != nil {
		return nil, err
	}
	n.cmd = exec.Command(bin, "-p", dir, "-c", n.Conf())
	var stderr bytes.Buffer
	n.cmd.Stderr = &stderr
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nginx %s: %w", name, err)
	}
	if err := waitListening(n.Address(), 10*time.Second); err != nil {
		n.Stop()
		return nil, fmt.Errorf("nginx %s did not listen on %s: %w\n%s", name, n.Address(), err, stderr.String())
	}
	return n, nil
}

// workers is the worker_processes of every gateway's configuration.
const workers = 2

// Settled waits until the gateway runs only the workers of its newest
// configuration. After a reload the old workers go on accepting
// connections for a moment, with the old configuration: a request that
// one answers may be routed as before the reload.
func (n *Nginx) Settled(ctx context.Context) error {
	for {
		kids, err := children(n.cmd.Process.Pid)
		if err == nil && kids == workers {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nginx %s runs %d workers after a reload, want %d: %w", n.Name, kids, workers, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// children counts the processes whose parent is pid.
func children(pid int) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // it exited
		}
		// pid (comm) state ppid …: comm may hold spaces, so read after ")".
		_, rest, ok := strings.Cut(string(stat), ") ")
		if fields := strings.Fields(rest); ok && len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			n++
		}
	}
	return n, nil
}

// Stop stops the gateway (quickly) and waits for it.
func (n *Nginx) Stop() {
	if n.cmd == nil || n.cmd.Process == nil || n.cmd.ProcessState != nil {
		return
	}
	_ = n.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = n.cmd.Process.Kill()
		<-done
	}
}

// Backend stands in for one color's ingress: it answers every request
// with its color, service and version, as JSON.
type Backend struct {
	Color, Service, Version string
	*httptest.Server
}

// Answer is what a backend answers.
type Answer struct {
	Color   string `json:"color"`
	Service string `json:"service"`
	Version string `json:"version"`
	Host    string `json:"host"`
	Path    string `json:"path"`
}

// StartBackend starts a backend; it is closed at the test's end.
func StartBackend(t testing.TB, color, service, version string) *Backend {
	t.Helper()
	b := &Backend{Color: color, Service: service, Version: version}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Answer{Color: color, Service: service, Version: version, Host: r.Host, Path: r.URL.Path})
	}))
	t.Cleanup(b.Close)
	return b
}

// Addr is the backend's host:port.
func (b *Backend) Addr() string { return strings.TrimPrefix(b.URL, "http://") }

// FreePort returns a TCP port free on loopback now.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitListening(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Get requests path through addr with the Host header host.
func Get(ctx context.Context, addr, host, path string) (*http.Response, Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return nil, Answer{}, err
	}
	req.Host = host
	resp, err := (&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return nil, Answer{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	var a Answer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	return resp, a, nil
}

// Gateways describes running gateways as the nginx router reaches them:
// local files and commands, each on its own port.
func Gateways(gws ...*Nginx) []nginx.Gateway {
	out := make([]nginx.Gateway, 0, len(gws))
	for _, g := range gws {
		out = append(out, nginx.Gateway{Name: g.Name, Address: g.Address(), Listen: g.Address(), ConfigDir: g.ConfigDir, Test: g.Test(), Reload: g.Reload()})
	}
	return out
}
