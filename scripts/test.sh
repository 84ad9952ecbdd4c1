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
# A test that swaps daemons puts the usual one back itself; if it was
# killed first, start it again here.
restore_docker() {
  local root pidfile
  root=$(docker info --format '{{.DockerRootDir}}' 2>/dev/null || true)
  # A test's other dockerd (its data under /var/tmp/envd-e2e-*) left running.
  case "$root" in
    /var/tmp/envd-e2e-*/data)
      pidfile="${root%/data}/dockerd.pid"
      [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
      for _ in $(seq 60); do docker info >/dev/null 2>&1 || break; sleep 1; done ;;
  esac
  docker info >/dev/null 2>&1 || scripts/e2e-setup.sh docker
  remove_test_images
}
trap restore_docker EXIT
# Unit, fixture, CLI and doc tests; the end-to-end tests are ignored there
# (a plain `cargo test` needs no Docker) and run next, on their own.
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
cargo test -p envd-e2e --test e2e --locked -- --ignored
# The exported Dockerfile on dockerd's built-in frontend and on Podman
# (its tests skip, saying why, where podman cannot run).
cargo test -p envd-e2e --test export --locked -- --ignored
# BuildKit 0.25 in docker-container and remote builders, an arm64 node
# under qemu, a registry: one test at a time (about 2 minutes together).
cargo test -p envd-e2e --test buildkit --locked -- --ignored --test-threads=1
# These stop the usual dockerd (and start it again), so they run alone,
# after the suite: a second, empty machine that takes its cache from a
# registry, and Docker 20.10.
cargo test -p envd-e2e --test second_machine --locked -- --ignored
cargo test -p envd-e2e --test docker20 --locked -- --ignored
