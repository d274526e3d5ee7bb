package nginx

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Transport reaches one gateway's files and commands.
type Transport interface {
	// ReadFile returns the file's content, or an error wrapping
	// fs.ErrNotExist when there is none.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// WriteFile replaces the file atomically: a temporary file in the same
	// folder, renamed over it, so that nginx never reads half a file.
	WriteFile(ctx context.Context, path string, data []byte) error
	// Run runs argv and returns its combined output; a non-zero exit is an
	// error carrying that output.
	Run(ctx context.Context, argv []string) ([]byte, error)
	// CheckDir fails unless dir is a folder this user may write in.
	CheckDir(ctx context.Context, dir string) error
	Close() error
}

// Local is a gateway on this machine (or a config folder shared with it).
type Local struct{}

// ReadFile implements Transport.
func (Local) ReadFile(_ context.Context, path string) ([]byte, error) { return os.ReadFile(path) }

// WriteFile implements Transport.
func (Local) WriteFile(_ context.Context, path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".bluegreen-*")
	if err != nil {
		return fmt.Errorf("write %s: %w (is the folder there, and writable by this user?)", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		// Readable like the rest of nginx's configuration: nginx may run
		// as another user than bluegreen, and the file holds no secret.
		werr = os.Chmod(tmp, 0o644) //nolint:gosec // see above

	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return nil
}

// Run implements Transport.
func (Local) Run(ctx context.Context, argv []string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, errors.New("no command")
	}
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// CheckDir implements Transport: by creating and removing a file there,
// the one test of writability that holds for every file system.
func (Local) CheckDir(_ context.Context, dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	f, err := os.CreateTemp(dir, ".bluegreen-check-*")
	if err != nil {
		return fmt.Errorf("not writable by this user: %w", err)
	}
	_ = f.Close()
	return os.Remove(f.Name())
}

// Close implements Transport.
func (Local) Close() error { return nil }

// SSHConfig reaches a gateway over SSH.
type SSHConfig struct {
	// Address is host or host:port (default port 22).
	Address string `json:"address"`
	// User is the remote user (default: this user's name).
	User string `json:"user,omitempty"`
	// IdentityFile is a private key (unencrypted); empty: the keys of the
	// agent at $SSH_AUTH_SOCK.
	IdentityFile string `json:"identityFile,omitempty"`
	// KnownHosts is the known_hosts file the gateway's host key must be in
	// (default ~/.ssh/known_hosts). A host key that is missing or differs
	// is refused: nothing is sent to a host that cannot prove it is the
	// gateway.
	KnownHosts string `json:"knownHosts,omitempty"`
}

// SSH is a gateway reached over SSH.
type SSH struct {
	client *ssh.Client
	addr   string
}

// DialSSH connects and authenticates, verifying the host key.
func DialSSH(ctx context.Context, c SSHConfig) (*SSH, error) {
	addr := c.Address
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "22")
	}
	user := c.User
	if user == "" {
		user = os.Getenv("USER")
	}
	kh := expandHome(c.KnownHosts)
	if kh == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("ssh %s: no known_hosts file given and no home folder: %w", addr, err)
		}
		kh = filepath.Join(home, ".ssh", "known_hosts")
	}
	hostKeys, err := knownhosts.New(kh)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: read known_hosts %s: %w (add the gateway's key with ssh-keyscan)", addr, kh, err)
	}
	auth, closeAuth, err := authMethod(expandHome(c.IdentityFile))
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", addr, err)
	}
	defer closeAuth()
	cfg := &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{auth}, HostKeyCallback: hostKeys, Timeout: 10 * time.Second}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", addr, err)
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		_ = conn.Close()
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) {
			if len(ke.Want) == 0 {
				return nil, fmt.Errorf("ssh %s: its host key is not in %s: refusing to connect (add it with `ssh-keyscan %s >> %s` once you have checked it)", addr, kh, c.Address, kh)
			}
			return nil, fmt.Errorf("ssh %s: its host key does not match the one in %s: refusing to connect (the host changed, or someone is in between)", addr, kh)
		}
		return nil, fmt.Errorf("ssh %s as %s: %w", addr, user, err)
	}
	return &SSH{client: ssh.NewClient(sc, chans, reqs), addr: addr}, nil
}

// expandHome turns a leading ~/ into this user's home folder, as ssh does.
func expandHome(p string) string {
	rest, ok := strings.CutPrefix(p, "~/")
	if !ok {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, rest)
}

// authMethod is the key in file, or the agent's keys when file is empty.
func authMethod(file string) (ssh.AuthMethod, func(), error) {
	if file != "" {
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, fmt.Errorf("read identity file: %w", err)
		}
		signer, err := ssh.ParsePrivateKey(pem)
		if err != nil {
			return nil, nil, fmt.Errorf("identity file %s: %w (an encrypted key needs the agent: leave identityFile empty)", file, err)
		}
		return ssh.PublicKeys(signer), func() {}, nil
	}
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, nil, errors.New("no identityFile given and no agent ($SSH_AUTH_SOCK is empty)")
	}
	conn, err := net.Dial("unix", sock) //nolint:gosec // the user's own agent socket, as ssh uses it
	if err != nil {
		return nil, nil, fmt.Errorf("ssh agent at %s: %w", sock, err)
	}
	return ssh.PublicKeysCallback(agent.NewClient(conn).Signers), func() { _ = conn.Close() }, nil
}

// quote makes s one word for a POSIX shell.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// run runs cmd in a shell on the gateway and returns its standard output,
// and its standard error (kept apart: the two are copied by two
// goroutines).
func (s *SSH) run(ctx context.Context, cmd string, stdin []byte) (stdout, stderr []byte, err error) {
	sess, err := s.client.NewSession()
	if err != nil {
		return nil, nil, fmt.Errorf("ssh %s: %w", s.addr, err)
	}
	defer func() { _ = sess.Close() }()
	if stdin != nil {
		sess.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	sess.Stdout, sess.Stderr = &out, &errb
	done := make(chan error, 1)
	go func() { done <- sess.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGKILL)
		return nil, nil, fmt.Errorf("ssh %s: %s: %w", s.addr, cmd, ctx.Err())
	}
	return out.Bytes(), errb.Bytes(), err
}

// ReadFile implements Transport.
func (s *SSH) ReadFile(ctx context.Context, path string) ([]byte, error) {
	// Exit 3 marks "no such file" apart from every other failure.
	out, errOut, err := s.run(ctx, "if [ -e "+quote(path)+" ]; then cat -- "+quote(path)+"; else exit 3; fi", nil)
	var ee *ssh.ExitError
	if errors.As(err, &ee) && ee.ExitStatus() == 3 {
		return nil, fmt.Errorf("ssh %s: %s: %w", s.addr, path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("ssh %s: read %s: %w: %s", s.addr, path, err, strings.TrimSpace(string(errOut)))
	}
	return out, nil
}

// WriteFile implements Transport.
func (s *SSH) WriteFile(ctx context.Context, path string, data []byte) error {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".bluegreen-"+hex.EncodeToString(rnd[:]))
	cmd := "umask 022 && cat > " + quote(tmp) + " && mv -f -- " + quote(tmp) + " " + quote(path) + " || { rm -f -- " + quote(tmp) + "; exit 1; }"
	if _, errOut, err := s.run(ctx, cmd, data); err != nil {
		return fmt.Errorf("ssh %s: write %s: %w: %s (is the folder there, and writable by this user?)", s.addr, path, err, strings.TrimSpace(string(errOut)))
	}
	return nil
}

// Run implements Transport.
func (s *SSH) Run(ctx context.Context, argv []string) ([]byte, error) {
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = quote(a)
	}
	out, errOut, err := s.run(ctx, strings.Join(words, " "), nil)
	out = append(out, errOut...)
	if err != nil {
		return out, fmt.Errorf("ssh %s: %s: %w: %s", s.addr, strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// CheckDir implements Transport.
func (s *SSH) CheckDir(ctx context.Context, dir string) error {
	_, errOut, err := s.run(ctx, "test -d "+quote(dir)+" || { echo 'no such folder' >&2; exit 1; }; test -w "+quote(dir)+" || { echo 'not writable by this user' >&2; exit 1; }", nil)
	if err != nil {
		return fmt.Errorf("ssh %s: %s", s.addr, strings.TrimSpace(string(errOut)))
	}
	return nil
}

// Close implements Transport.
func (s *SSH) Close() error { return s.client.Close() }
