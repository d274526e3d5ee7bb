package testbed

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultNodes is the number of fake nodes a cluster gets when
// [Options.Nodes] is 0.
const DefaultNodes = 2

// DefaultServiceCIDR is the service IP range a cluster gets when
// [Options.ServiceCIDR] is empty: 254 service IPs, plenty for tests.
const DefaultServiceCIDR = "10.96.0.0/24"

// DefaultZones are the zones fake nodes are spread over, in turn, when
// [Options.Zones] is empty.
var DefaultZones = []string{"us-east-1a", "us-east-1b", "us-east-1c"}

// UnreadyMarker is the substring that, in a pod's first container image
// (e.g. "example.com/app:v3-unready"), makes the pod Running but never Ready.
const UnreadyMarker = "unready"

// Options configure a cluster for [Start] and [StartT].
type Options struct {
	// Name names the cluster: lower-case letters, digits and '-', at most
	// 40 characters. Start uses it as given (default "testbed-<random>");
	// StartT derives it from the test name when empty and always appends a
	// random suffix.
	Name string
	// Nodes is the number of fake nodes: 0 means DefaultNodes, a negative
	// number means none.
	Nodes int
	// ServiceCIDR is the API server's service IP range, e.g. "10.96.0.0/16"
	// for many Services; empty means DefaultServiceCIDR.
	ServiceCIDR string
	// Zones are the topology.kubernetes.io/zone values given to the nodes in
	// turn; empty means DefaultZones. The region is the zone minus its last
	// letter.
	Zones []string
	// WorkDir is the folder the cluster keeps its state, logs and kubeconfig
	// in; Stop removes it. Empty means a new temporary folder.
	WorkDir string
	// BinDir is the folder holding the binaries; empty means [BinDir].
	BinDir string
	// Logger receives progress messages; nil means slog.Default().
	Logger *slog.Logger
	// Detached marks a cluster meant to outlive the process that starts it
	// (cmd/testbed up). Other clusters whose process died without stopping
	// them are stopped by the next Start on the machine.
	Detached bool
}

// nameRE is what a cluster name must match.
var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$`)

// withDefaults returns o with defaults filled in, or an error if o is
// invalid. It does not create anything.
func (o Options) withDefaults() (Options, error) {
	if o.Name == "" {
		o.Name = "testbed-" + randomHex(3)
	}
	if !nameRE.MatchString(o.Name) {
		return o, fmt.Errorf("cluster name %q: want at most 40 of [-a-z0-9], starting and ending alphanumeric", o.Name)
	}
	switch {
	case o.Nodes == 0:
		o.Nodes = DefaultNodes
	case o.Nodes < 0:
		o.Nodes = 0
	}
	if o.ServiceCIDR == "" {
		o.ServiceCIDR = DefaultServiceCIDR
	}
	prefix, err := netip.ParsePrefix(o.ServiceCIDR)
	if err != nil {
		return o, fmt.Errorf("service CIDR: %w", err)
	}
	o.ServiceCIDR = prefix.Masked().String()
	if len(o.Zones) == 0 {
		o.Zones = DefaultZones
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BinDir == "" {
		if o.BinDir, err = BinDir(); err != nil {
			return o, err
		}
	} else if err := checkBinaries(o.BinDir); err != nil {
		return o, err
	}
	if o.WorkDir != "" {
		if o.WorkDir, err = filepath.Abs(o.WorkDir); err != nil {
			return o, fmt.Errorf("work dir: %w", err)
		}
	}
	return o, nil
}

// uniqueName returns a valid cluster name made of base (e.g. a test name,
// shortened and cleaned) and a random suffix.
func uniqueName(base string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(base) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 24 {
		s = strings.TrimRight(s[:24], "-")
	}
	if s == "" {
		s = "testbed"
	}
	return s + "-" + randomHex(3)
}

// randomHex returns n random bytes as 2n hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails, see crypto/rand.Read
	return hex.EncodeToString(b)
}
