# bluegreen — targets people guess. `make demo` runs a whole release on a
# local cluster; `make test` runs every test, on local clusters too.
SHELL := /bin/bash
GO ?= go
BIN := bin/bluegreen

# Stamped into the binary (bluegreen version): the nearest tag and the
# commit, with the commit's date so that two builds of one commit match.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE ?= $(shell git log -1 --format=%cI 2>/dev/null)
PKG := github.com/bluegreen/bluegreen/internal/cli
LDFLAGS := -X $(PKG).Version=$(VERSION) -X $(PKG).Commit=$(COMMIT) -X $(PKG).Date=$(DATE)
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64

.PHONY: all build release test unit e2e bench bench-controller lint generate generate-check verify demo demo-cluster demo-namespace testbed gateway-deps clean

all: build

# Two programs: bin/bluegreen, the lean build people type (no cluster scope,
# no controller: it starts faster), and bin/bluegreen-full, the complete
# build it runs for migrate and controller. Keep them side by side.
build:
	$(GO) build -tags lean -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/bluegreen
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)-full ./cmd/bluegreen

# Stripped, static binaries for every platform in dist/: per platform a
# .tar.gz with bluegreen (lean), bluegreen-full and LICENSE (what krew
# installs), both programs also on their own, and their SHA-256 checksums.
release:
	@rm -rf dist && mkdir -p dist
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; name=bluegreen_$(VERSION)_$${os}_$${arch}; \
		echo "build $$name"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -tags lean -trimpath -ldflags '-s -w $(LDFLAGS)' -o dist/$$name/bluegreen ./cmd/bluegreen; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '-s -w $(LDFLAGS)' -o dist/$$name/bluegreen-full ./cmd/bluegreen; \
		cp LICENSE deploy/krew/kubectl_complete-bluegreen dist/$$name/; \
		cp dist/$$name/bluegreen dist/$$name.bin; \
		cp dist/$$name/bluegreen-full dist/$${name/bluegreen_/bluegreen-full_}.bin; \
		tar -C dist/$$name -czf dist/$$name.tar.gz bluegreen bluegreen-full kubectl_complete-bluegreen LICENSE; \
		rm -rf dist/$$name; \
	done
	@cd dist && sha256sum *.bin *.tar.gz > checksums.txt && cat checksums.txt
	@sed -e "/^#/d" -e "s/VERSION/$(VERSION)/g" deploy/krew/bluegreen.yaml > dist/bluegreen.krew.yaml
	@set -e; for p in $(PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; \
		sum=$$(sha256sum dist/bluegreen_$(VERSION)_$${os}_$${arch}.tar.gz | cut -d' ' -f1); \
		sed -i "s/SHA256_$${os}_$${arch}/$$sum/" dist/bluegreen.krew.yaml; \
	done; echo "wrote dist/bluegreen.krew.yaml"

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
	$(GO) tool golangci-lint run --build-tags testbed,lean ./cmd/... ./internal/cli/...

# The API's deep-copy functions and CRDs, from api/ (controller-gen, a tool
# of the module), the CRDs copied into the Helm chart. generate-check fails
# when any of them is not current.
CRDGEN = $(GO) tool controller-gen object paths=./api/... crd paths=./api/...
generate:
	$(CRDGEN) output:crd:artifacts:config=deploy/crds
	cp deploy/crds/*.yaml charts/bluegreen/crds/

generate-check:
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	$(CRDGEN) output:crd:artifacts:config=$$tmp && \
	diff -ru --exclude=bluegreen.dev_bluegreenruns.yaml --exclude=deploy.go deploy/crds $$tmp && \
	diff -ru --exclude=deploy.go deploy/crds charts/bluegreen/crds && \
	git diff --exit-code --stat -- api/ || { echo "generated files are stale: run make generate and commit" >&2; exit 1; }

# lint, plus go.mod and go.sum tidy and the golden files of the plans current.
verify: lint
	$(GO) mod tidy -diff
	$(GO) test -count=1 -run Golden ./internal/cli/

# Every test: unit tests and the end-to-end tests on local clusters.
test: lint generate-check testbed gateway-deps
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

# The controller over 100, 500 and 1,000 releases (BENCH_RELEASES=n,m,…),
# a test bed each: memory, CPU, API requests and switch latency.
bench-controller: testbed
	BLUEGREEN_TESTBED_BIN=$$(bash hack/testbed.sh) $(GO) test -tags testbed -run '^$$' -bench Controller -benchtime 1x -timeout 120m ./test/fleet/

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
	rm -rf bin dist
