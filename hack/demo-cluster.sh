#!/usr/bin/env bash
# `make demo-cluster`: a full cluster-scope migration on two local clusters
# (no cloud account): preflight, plan, apply with the live step view and the
# verified checklist, status, rollback. Everything it starts is stopped on
# exit, even on failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work="$root/.cache/demo-cluster"
mkdir -p "$work"
go build -o "$work/migration-demo" ./test/migrationbed/cmd/migration-demo
exec "$work/migration-demo" --bluegreen "$root/bin/bluegreen" --work "$work/run"
