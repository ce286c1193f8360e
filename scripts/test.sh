#!/usr/bin/env bash
# Runs the whole test suite. Installs the outside peers the tests use when they are missing.
#
#   scripts/test.sh            # everything
#   scripts/test.sh -- NAME    # extra arguments go to `cargo test`
set -euo pipefail
cd "$(dirname "$0")/.."

here=$(pwd)
. scripts/peers.sh

ensure_kubectl
export KUBECTL

# sshd and microsocks on loopback for tests/ssh_peers.rs; stopped however this script ends.
trap stop_ssh_peers EXIT
start_ssh_peers

# docker-registry, htpasswd, curl and skopeo for tests/registry_peer.rs.
ensure_registry_peers

echo "== cargo test (kubectl: $KUBECTL)"
# One test thread per core would starve the end-to-end tests' pseudo-terminals and watches on
# a 2-core machine; the suite's timing-free assertions make more threads safe, just slower.
cargo test --locked --no-fail-fast "$@"
