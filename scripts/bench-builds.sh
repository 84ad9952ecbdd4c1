#!/usr/bin/env bash
# The build benchmark: examples/aiges-wrapper through envd-frontend, the same
# steps as a Dockerfile through dockerd's built-in frontend and through
# BuildKit 0.25.2's Dockerfile frontend as a gateway image (the real peer,
# built from source), and two stand-in
# frontend images (tests/bench-frontends: a trivial floor, and a replay of
# envd-frontend's own graph), and envd-frontend's exported Dockerfile through
# the built-in frontend, on the same daemon. Prints Markdown tables of
# medians (tests/bench/builds.rs). RUNS (default 5) and COLD_RUNS (default 3)
# set the number of paired runs. Cold runs prune the whole build cache.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/e2e-setup.sh all
scripts/e2e-setup.sh dockerfile-frontend
exec cargo bench -q -p envd-e2e --bench builds
