#!/usr/bin/env bash
# Preflight figures against the loopback sshd (started and stopped here) and sandbox nodes.
#
#   scripts/bench-preflight.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/peers.sh
trap stop_ssh_peers EXIT
start_ssh_peers
cargo bench --bench preflight
