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
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
