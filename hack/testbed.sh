#!/usr/bin/env bash
# Builds the binaries the test bed (test/testbed) runs and prints the folder
# that holds them as the last line of stdout:
#
#   .cache/testbed/<key>/bin/{etcd,kube-apiserver,kube-controller-manager,
#                             kube-scheduler,kwok,kwokctl}
#
# <key> hashes test/testbed/build/go.mod, test/testbed/build/go.sum and the
# kwok version (see CacheKey in test/testbed/bindir.go), so the binaries are
# rebuilt only when a version changes; otherwise this returns at once.
# The control-plane binaries are built from the module in test/testbed/build;
# kwok and kwokctl are installed with `go install`. Needs only Go and network
# access to the Go module proxy.
#
# Usage: hack/testbed.sh            build if needed, print the bin dir
#        hack/testbed.sh --key      print the cache key only
#        hack/testbed.sh --kubectl  also build upstream kubectl at the test
#                                   bed's Kubernetes release (as upstream
#                                   releases it: static, stripped), print its
#                                   path; the benchmark times `kubectl patch`
set -euo pipefail

# Keep in sync with KwokVersion in test/testbed/bindir.go.
KWOK_VERSION=v0.7.0
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok kwokctl)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/test/testbed/build"

log() { printf 'testbed: %s\n' "$*" >&2; }

sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum
	else
		shasum -a 256
	fi
}

cache_key() {
	local f
	for f in go.mod go.sum; do
		if [[ ! -f "$build/$f" ]]; then
			log "missing $build/$f (the build module's go.mod and go.sum must be committed)"
			exit 1
		fi
	done
	{ cat "$build/go.mod" "$build/go.sum"; printf 'kwok %s\n' "$KWOK_VERSION"; } | sha256 | cut -c1-12
}

complete() {
	local b
	for b in "${BINARIES[@]}"; do
		[[ -x "$1/$b" ]] || return 1
	done
}

key="$(cache_key)"
if [[ "${1:-}" == "--key" ]]; then
	echo "$key"
	exit 0
fi
if [[ "${1:-}" == "--kubectl" ]]; then
	bin="$("${BASH_SOURCE[0]}")"
	if [[ ! -x "$bin/kubectl" ]]; then
		version="$(cd "$build" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
		log "building kubectl $version into $bin"
		(cd "$build" && CGO_ENABLED=0 go build -tags kubectl -trimpath \
			-ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/client-go/pkg/version.gitVersion=$version" \
			-o "$bin/.kubectl.tmp" ./kubectl)
		mv -f "$bin/.kubectl.tmp" "$bin/kubectl"
	fi
	echo "$bin/kubectl"
	exit 0
fi

cache="$root/.cache/testbed"
dest="$cache/$key"
if complete "$dest/bin"; then
	echo "$dest/bin"
	exit 0
fi

mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.tmp-$key.XXXXXX")"
chmod 755 "$tmp"
mkdir -p "$tmp/bin"

# Run go in the background and wait for it, so that a signal stops go too
# before the temporary folder is removed.
child=""
stop() {
	if [[ -n "$child" ]]; then
		kill "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
	fi
	exit 143
}
trap stop INT TERM HUP
trap 'rm -rf "$tmp"' EXIT
in_build() {
	(cd "$build" && CGO_ENABLED=0 exec "$@") &
	child=$!
	wait "$child"
	child=""
}

start=$SECONDS
log "building control plane from test/testbed/build into cache $key (takes minutes the first time)"
in_build go build -trimpath -o "$tmp/bin/" ./...
log "installing kwok and kwokctl $KWOK_VERSION"
GOBIN="$tmp/bin" in_build go install -trimpath \
	"sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
if ! complete "$tmp/bin"; then
	log "build finished but binaries are missing in $tmp/bin: ${BINARIES[*]}"
	exit 1
fi

# Publish atomically: a killed build leaves only a .tmp-* folder behind.
if [[ -e "$dest" ]] && ! complete "$dest/bin"; then
	rm -rf "$dest" # an incomplete folder not made by this script
fi
if ! mv -T "$tmp" "$dest" 2>/dev/null; then
	# mv without -T (macOS), or another run published first.
	[[ -e "$dest" ]] || mv "$tmp" "$dest"
fi
# Leftovers of builds killed long ago.
find "$cache" -maxdepth 1 -name '.tmp-*' -mmin +720 -exec rm -rf {} + 2>/dev/null || true
if ! complete "$dest/bin"; then
	log "binaries missing in $dest/bin"
	exit 1
fi
log "built in $((SECONDS - start))s"
echo "$dest/bin"
