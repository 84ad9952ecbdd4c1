#!/usr/bin/env bash
# Runs the whole test suite. Snapshots must match as committed (no updates in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
export INSTA_UPDATE=no
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
