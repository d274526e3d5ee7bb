package testbed

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KwokVersion is the kwok release whose kwok and kwokctl binaries the test
// bed runs. hack/testbed.sh installs the same version; a test checks that the
// two agree.
const KwokVersion = "v0.7.0"

// BinDirEnv names the environment variable that, when set, points at the
// folder holding the test-bed binaries instead of the cache.
const BinDirEnv = "BLUEGREEN_TESTBED_BIN"

// modulePath is the module whose go.mod marks the repository root.
const modulePath = "github.com/bluegreen/bluegreen"

// binaries are the programs a bin dir must hold.
var binaries = []string{
	"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
	"kwok", "kwokctl",
}

// ErrNoBinaries reports that the test-bed binaries have not been built.
var ErrNoBinaries = errors.New("test-bed binaries not found: build them with `make testbed` (or bash hack/testbed.sh), or set " + BinDirEnv + " to a folder holding them")

// BinDir returns the folder holding the test-bed binaries: the value of
// BLUEGREEN_TESTBED_BIN when set, else .cache/testbed/<key>/bin under the
// repository root, where key is [CacheKey]. The error wraps [ErrNoBinaries]
// when a binary is missing.
func BinDir() (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", fmt.Errorf("%s: %w", BinDirEnv, err)
		}
		return abs, checkBinaries(abs)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	key, err := CacheKey(root)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, ".cache", "testbed", key, "bin")
	return dir, checkBinaries(dir)
}

// checkBinaries returns an error wrapping ErrNoBinaries unless dir holds
// every test-bed binary as an executable file.
func checkBinaries(dir string) error {
	for _, name := range binaries {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			return fmt.Errorf("%s missing in %s: %w", name, dir, ErrNoBinaries)
		}
	}
	return nil
}

// RepoRoot returns the root of the bluegreen repository: the nearest folder,
// from the working directory up, whose go.mod declares module
// github.com/bluegreen/bluegreen.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && declaresModule(data, modulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s above the working directory: %w", modulePath, ErrNoBinaries)
		}
		dir = parent
	}
}

// declaresModule reports whether the go.mod content declares module path.
func declaresModule(goMod []byte, path string) bool {
	sc := bufio.NewScanner(bytes.NewReader(goMod))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && fields[0] == "module" && strings.Trim(fields[1], `"`) == path {
			return true
		}
	}
	return false
}

// CacheKey returns the name of the cache folder under .cache/testbed for the
// repository at root: the first 12 hex digits of the SHA-256 of
// test/testbed/build/go.mod, then test/testbed/build/go.sum, then the line
// "kwok <KwokVersion>". hack/testbed.sh computes the same key.
func CacheKey(root string) (string, error) {
	h := sha256.New()
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(root, "test", "testbed", "build", name))
		if err != nil {
			return "", fmt.Errorf("test-bed cache key: %w", err)
		}
		h.Write(data)
	}
	fmt.Fprintf(h, "kwok %s\n", KwokVersion)
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}
