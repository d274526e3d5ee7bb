#!/usr/bin/env bash
# The README's first command (`make demo`): start a local cluster, install a
# sample app, turn it into the blue/green layout, release v2 with checks,
# promote it, roll it back, and show `bluegreen status` at each stage.
# Everything it starts is stopped on exit, even on failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work="$root/.cache/demo"
rm -rf "$work" && mkdir -p "$work"
name="demo-$$"

go build -o "$work/testbed" ./test/testbed/cmd/testbed
go build -o "$work/demo" ./test/demo
bg="$root/bin/bluegreen"

health_pid=""
cleanup() {
	[[ -n "$health_pid" ]] && kill "$health_pid" 2>/dev/null || true
	"$work/testbed" down --name "$name" >/dev/null 2>&1 || true
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "Start a local Kubernetes cluster (real control plane, 3 simulated nodes)"
export KUBECONFIG
KUBECONFIG="$("$work/testbed" up --name "$name" --nodes 3 2>"$work/testbed.log" | tail -n 1)"
export BLUEGREEN_AUDIT_LOG="$work/audit.jsonl"
echo "cluster $name is up"

step "Install the sample app: Deployment shop (v1.0.0) behind Service shop"
"$work/demo" install --kubeconfig "$KUBECONFIG" -n default

step "Turn it into the blue/green layout without dropping a request"
show "$bg" init shop
show "$bg" status shop

step "Plan the release of v2.0.0 (changes nothing)"
port=$(( 20000 + RANDOM % 20000 ))
"$work/demo" serve --addr "127.0.0.1:$port" & health_pid=$!
show "$bg" plan shop --image registry.example.com/shop:2.0.0 --preview-url "http://127.0.0.1:$port" --health-url /healthz

step "Release v2.0.0 on green, check the preview, pause before the switch"
show "$bg" deploy shop --image registry.example.com/shop:2.0.0 \
	--preview-url "http://127.0.0.1:$port" --health-url /healthz --interval 200ms --keep-warm 1 --pause
show "$bg" status shop

step "Promote: production switches to green; blue is kept warm with 1 pod"
show "$bg" promote shop
show "$bg" status shop

step "Roll back in one command: blue is scaled back up and Ready before traffic returns; green keeps v2 on 1 pod behind the preview for re-testing"
show "$bg" rollback shop
show "$bg" status shop

step "The audit log (one JSON line per transition)"
tail -n 3 "$BLUEGREEN_AUDIT_LOG"
printf '\nDemo complete; the cluster is being stopped.\n'
