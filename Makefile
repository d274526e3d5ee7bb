# bluegreen — targets people guess. `make demo` runs a whole release on a
# local cluster; `make test` runs every test, on local clusters too.
SHELL := /bin/bash
GO ?= go
BIN := bin/bluegreen

.PHONY: all build test unit e2e bench lint verify demo demo-cluster demo-namespace testbed gateway-deps clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/bluegreen

# Builds (once, then cached in .cache/testbed) the control plane the tests run on.
testbed:
	@bash hack/testbed.sh >/dev/null

# The gateways' real parts: nginx and OpenSSH's server, from the machine's
# Debian packages, installed when missing (as root; tests start and stop
# their own processes and never touch the system's services).
gateway-deps:
	@bash hack/gateway-deps.sh

# golangci-lint, pinned by go.mod's tool directive (built from source, no
# downloaded binary): gofmt, vet, errcheck, staticcheck, unused, ineffassign,
# gosec and errorlint, with the test bed's build tag (.golangci.yml).
lint:
	$(GO) tool golangci-lint run ./...

# lint, plus go.mod and go.sum tidy and the golden files of the plans current.
verify: lint
	$(GO) mod tidy -diff
	$(GO) test -count=1 -run Golden ./internal/cli/

# Every test: unit tests and the end-to-end tests on local clusters.
test: lint testbed gateway-deps
	BLUEGREEN_TESTBED_BIN=$$(bash hack/testbed.sh) $(GO) test -tags testbed -count=1 -timeout 40m ./...

# Tests that need no cluster: only Go. Tests of internal packages that run
# on a local API server carry the build tag `testbed` and run in `make test`.
unit:
	$(GO) test -count=1 ./internal/...

e2e: testbed gateway-deps
	BLUEGREEN_TESTBED_BIN=$$(bash hack/testbed.sh) $(GO) test -tags testbed -count=1 -timeout 40m -v ./test/...

# BENCH picks the benchmarks (a regexp, e.g. Switch); BENCH_BASELINE=<git ref>
# also times that build's promote and rollback, in turn with this one's.
BENCH ?= .
bench: testbed gateway-deps
	BLUEGREEN_TESTBED_BIN=$$(bash hack/testbed.sh) $(GO) test -run '^$$' -bench '$(BENCH)' -benchtime 1x -timeout 30m ./test/bench/

demo: testbed build
	BLUEGREEN_TESTBED_BIN=$$(bash hack/testbed.sh) bash hack/demo.sh

# A full cluster-scope migration on two local clusters: EBS volume hand-off,
# weighted Route 53 from 100/0 to 0/100, checklist, rollback.
demo-cluster: testbed build
	BLUEGREEN_TESTBED_BIN=$$(bash hack/testbed.sh) bash hack/demo-cluster.sh

# The namespace scope's runbook on a local cluster: payments in namespaces
# blue and green behind two real nginx gateways, released, checked through
# the preprod host, promoted and rolled back under a live request counter.
demo-namespace: testbed build gateway-deps
	BLUEGREEN_TESTBED_BIN=$$(bash hack/testbed.sh) bash hack/demo-namespace.sh

clean:
	rm -rf bin
