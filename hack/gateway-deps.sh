#!/usr/bin/env bash
# Installs what the tests run for real when it is missing: nginx and
# OpenSSH's server (the gateway tests), kubectl (the e2e suite checks
# what bluegreen writes through kubectl itself), tmux (a terminal for
# status --watch's live view) and Chromium with a font (the dashboard's
# tests drive it headless), from Debian's packages. The packages' own services
# are not started (no init system runs them in CI), and the tests start
# and stop processes of their own on loopback ports.
set -euo pipefail
missing=()
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
[[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[[ -d /usr/share/fonts/truetype/liberation ]] || missing+=(fonts-liberation)
if ((${#missing[@]} == 0)); then
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "gateway tests need: ${missing[*]}; install them (sudo apt-get install -y ${missing[*]}) and run again" >&2
	exit 1
fi
echo "installing ${missing[*]} from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d keeps the packages from starting their services (one the
# machine already has is left as it is).
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
	{ apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
