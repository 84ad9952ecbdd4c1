#!/usr/bin/env bash
# No-change rebuild of examples/aiges-wrapper through envd-frontend, next to
# the same steps as a Dockerfile through dockerd's built-in frontend, on the
# same daemon; medians of RUNS builds each. Also prints the frontend image
# and binary sizes. Prints a table; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-7}"
scripts/e2e-setup.sh all
source scripts/lib/index.sh
common=(--build-arg "ENVD_PIP_INDEX=$index" --network=host --allow network.host --progress=quiet)

envd_build() {
  docker buildx build "${common[@]}" -f examples/aiges-wrapper/build.envd \
    --build-arg ENVD_BASE_IMAGE_AIGES_CPU=envd-test/cpu:latest -t bench-envd:latest --load examples/aiges-wrapper >/dev/null
}
dockerfile_build() {
  docker buildx build "${common[@]}" -f tests/bench/aiges-wrapper.Dockerfile \
    -t bench-dockerfile:latest --load examples/aiges-wrapper >/dev/null
}
median_ms() {
  local fn=$1 times=()
  for _ in $(seq "$runs"); do
    local start=${EPOCHREALTIME/./}
    "$fn"
    local end=${EPOCHREALTIME/./}
    times+=($(( (end - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( runs / 2 + 1 ))p"
}

envd_build; dockerfile_build   # warm: both fully cached afterwards
envd_ms=$(median_ms envd_build)
dockerfile_ms=$(median_ms dockerfile_build)
image_bytes=$(docker image inspect aiges/envd-frontend:latest --format '{{.Size}}')
binary_bytes=$(stat -c %s target/x86_64-unknown-linux-gnu/release/envd-frontend)
echo "| measure | envd-frontend | Dockerfile (built-in) | ratio |"
echo "|---|---|---|---|"
printf '| no-change rebuild, median of %d | %d ms | %d ms | %s |\n' "$runs" "$envd_ms" "$dockerfile_ms" \
  "$(python3 -c "print(f'{$envd_ms / $dockerfile_ms:.2f}x')")"
printf '| frontend image | %.1f MiB (binary %.1f MiB) | built in | |\n' \
  "$(python3 -c "print($image_bytes / 1048576)")" "$(python3 -c "print($binary_bytes / 1048576)")"
