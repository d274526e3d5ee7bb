#!/usr/bin/env bash
# `make demo-namespace`: the namespace scope's runbook on a local cluster
# (no cloud account): namespaces blue and green with payment, user-login
# and user-profile, two real nginx gateways, payment 2.0.0 released to
# green, checked through preprod.myapp.com, promoted and rolled back, with
# status at each stage and a live request counter. Everything it starts is
# stopped on exit, even on failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work="$root/.cache/demo-namespace"
mkdir -p "$work"
go build -o "$work/namespace-demo" ./test/gatewaybed/cmd/namespace-demo
exec "$work/namespace-demo" --bluegreen "$root/bin/bluegreen" --work "$work/run"
