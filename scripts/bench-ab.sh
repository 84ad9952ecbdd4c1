#!/usr/bin/env bash
# Measures one change to the frontend: no-change rebuilds of
# examples/aiges-wrapper through two or more frontend images, alternating
# (one round builds through each image in turn, so drift on a busy machine
# falls on all of them), ROUNDS rounds (default 25). Prints, for each
# image, the median wall time of `docker buildx build` and the medians of
# its report (ENVD_FRONTEND_REPORT=1: start to build file read, to the
# graph's Solve, to Return). Every build shows the report step, so each
# image pays for it alike (scripts/bench-builds.sh, which compares with
# other frontends, times builds without it). Asserts nothing.
#
# Usage, after scripts/e2e-setup.sh all:
#   scripts/e2e-setup.sh frontend && docker tag aiges/envd-frontend:latest aiges/envd-frontend:before
#   (make the change)
#   scripts/e2e-setup.sh frontend && docker tag aiges/envd-frontend:latest aiges/envd-frontend:after
#   scripts/bench-ab.sh before after
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$#" -ge 2 ] || { echo "usage: $0 TAG TAG... (images aiges/envd-frontend:TAG)" >&2; exit 2; }
rounds="${ROUNDS:-25}"
# The suite's package index, on a port of its own ($index).
source scripts/lib/index.sh
work=$(mktemp -d)
trap 'kill $index_pid 2>/dev/null || true; rm -f "$port_file"; rm -rf "$work"
  docker image ls -q "envd-bench-ab" | sort -u | xargs -r docker image rm -f >/dev/null 2>&1 || true' EXIT

# The example without its syntax line: the image comes from BUILDKIT_SYNTAX.
cp -r examples/aiges-wrapper "$work/project"
sed -i '1{/^# syntax=/d}' "$work/project/build.envd"

# Microseconds; bash's EPOCHREALTIME has a comma in some locales.
now_us() { echo "${EPOCHREALTIME//[.,]/}"; }

build() {
  local tag=$1 start end out report
  start=$(now_us)
  out=$(docker buildx build --progress=plain -f "$work/project/build.envd" \
    --network=host --allow network.host \
    --build-arg "BUILDKIT_SYNTAX=aiges/envd-frontend:$tag" \
    --build-arg ENVD_BASE_IMAGE=envd-test/cpu:latest \
    --build-arg "ENVD_PIP_INDEX=$index" \
    --build-arg ENVD_FRONTEND_REPORT=1 -t "envd-bench-ab:$tag" "$work/project" 2>&1) || {
    echo "$out" >&2
    echo "the build through aiges/envd-frontend:$tag failed" >&2
    exit 1
  }
  end=$(now_us)
  report=$(echo "$out" | grep -o 'envd-frontend report: [^#]*' | head -1 | cut -d' ' -f3-) || true
  [ -n "$report" ] || { echo "aiges/envd-frontend:$tag showed no report (ENVD_FRONTEND_REPORT=1)" >&2; exit 1; }
  echo "$tag wall_ms=$(((end - start) / 1000)) $report"
}

# One unmeasured build each fills the cache.
for tag in "$@"; do build "$tag" >/dev/null; done
for _ in $(seq "$rounds"); do
  for tag in "$@"; do build "$tag"; done
done >"$work/samples"

python3 - "$work/samples" "$rounds" "$@" <<'EOF'
import statistics
import sys

path, rounds, tags = sys.argv[1], sys.argv[2], sys.argv[3:]
samples = {tag: [] for tag in tags}
for line in open(path):
    tag, *pairs = line.split()
    samples[tag].append(dict((k, float(v)) for k, v in (p.split("=") for p in pairs)))
keys = [("wall_ms", "wall"), ("build_file_ms", "build file read"),
        ("compiled_ms", "the graph's Solve"), ("return_ms", "Return")]
print(f"Medians of {rounds} alternating no-change rebuilds of examples/aiges-wrapper (ms):\n")
print("| image | " + " | ".join(label for _, label in keys) + " |")
print("|---" * (len(keys) + 1) + "|")
for tag in tags:
    cells = [f"{statistics.median(s[k] for s in samples[tag] if k in s):.1f}" for k, _ in keys]
    print(f"| aiges/envd-frontend:{tag} | " + " | ".join(cells) + " |")
EOF
