#!/usr/bin/env bash
# Runs the whole test suite: unit, fixture and CLI tests, and the end-to-end
# suite against a real dockerd (installed and started here when missing).
# Snapshots must match as committed (no updates).
set -euo pipefail
cd "$(dirname "$0")/.."
export INSTA_UPDATE=no
scripts/e2e-setup.sh all
cargo test --workspace --all-targets --locked -- --test-threads 2
cargo test --workspace --doc --locked
