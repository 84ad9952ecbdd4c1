#!/usr/bin/env bash
# Runs the whole test suite: unit, fixture and CLI tests, and the end-to-end
# suite against a real dockerd (installed and started here when missing).
# Snapshots must match as committed (no updates).
set -euo pipefail
cd "$(dirname "$0")/.."
export INSTA_UPDATE=no
scripts/e2e-setup.sh all
# Two at a time: the end-to-end builds share a 2-core machine with dockerd.
export RUST_TEST_THREADS=2
# The suite's images are removed after it, not by each test: removing an
# image while another build unpacks layers it shares fails that build
# (dockerd 26, containerd image store: "parent snapshot ... does not exist").
remove_test_images() {
  docker image ls --filter 'reference=envd-e2e/*' -q | sort -u | xargs -r docker image rm -f >/dev/null 2>&1 || true
}
trap remove_test_images EXIT
# Unit, fixture, CLI and doc tests; the end-to-end tests are ignored there
# (a plain `cargo test` needs no Docker) and run next, on their own.
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
cargo test -p envd-e2e --test e2e --locked -- --ignored
# The second-machine cache test stops the usual dockerd (and starts it
# again), so it runs alone, after the suite.
cargo test -p envd-e2e --test second_machine --locked -- --ignored
