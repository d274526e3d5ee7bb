package gatewaybed

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SSHD is an OpenSSH server on a loopback port that lets the test's user
// in with a key of its own, and the files a client needs to reach it.
type SSHD struct {
	Address      string // 127.0.0.1:port
	User         string
	IdentityFile string // the client's private key
	KnownHosts   string // a known_hosts file holding the server's host key
	HostKeyPub   string // the server's public host key line
	cmd          *exec.Cmd
}

// SSHDBin is the sshd binary ($BLUEGREEN_SSHD, else /usr/sbin/sshd).
func SSHDBin() (string, error) {
	if p := os.Getenv("BLUEGREEN_SSHD"); p != "" {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/bin/sshd"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("sshd not found: install it (apt-get install -y openssh-server; `make test` does) or set BLUEGREEN_SSHD")
}

// StartSSHD starts the server; it is stopped at the test's end.
func StartSSHD(t testing.TB) *SSHD {
	t.Helper()
	bin, err := SSHDBin()
	if err != nil {
		t.Fatal(err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	// sshd refuses key files in folders others can write, and wants
	// privilege separation's folder.
	dir, err := os.MkdirTemp("", "bluegreen-sshd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		_ = os.MkdirAll("/run/sshd", 0o755)
	}
	hostKey := filepath.Join(dir, "host_ed25519")
	clientKey := filepath.Join(dir, "client_ed25519")
	for _, k := range []string{hostKey, clientKey} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v: %s", err, out)
		}
	}
	clientPub, err := os.ReadFile(clientKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, clientPub, 0o600); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	conf := filepath.Join(dir, "sshd_config")
	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s/sshd.pid
AuthorizedKeysFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AllowUsers %s
LogLevel ERROR
`, port, hostKey, dir, authorized, u.Username)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &SSHD{Address: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), User: u.Username, IdentityFile: clientKey}
	s.cmd = exec.Command(bin, "-D", "-e", "-f", conf)
	var stderr bytes.Buffer
	s.cmd.Stderr = &stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start sshd: %v", err)
	}
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	})
	if err := waitListening(s.Address, 10*time.Second); err != nil {
		t.Fatalf("sshd did not listen on %s: %v\n%s", s.Address, err, stderr.String())
	}
	pub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(pub))
	s.HostKeyPub = fields[0] + " " + fields[1]
	s.KnownHosts = filepath.Join(dir, "known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%d %s\n", port, s.HostKeyPub)
	if err := os.WriteFile(s.KnownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// WrongKnownHosts writes a known_hosts file that holds another key for the
// server's address: a client that trusts it must refuse the server.
func (s *SSHD) WrongKnownHosts(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	k := filepath.Join(dir, "other")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(k + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(pub))
	host, port, _ := net.SplitHostPort(s.Address)
	path := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(path, []byte(fmt.Sprintf("[%s]:%s %s %s\n", host, port, fields[0], fields[1])), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
