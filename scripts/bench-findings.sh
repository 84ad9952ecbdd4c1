#!/usr/bin/env bash
# The inputs that crashed, hung or flooded the frontend (the robustness
# issue's findings), at the sizes the issue gave, and what each gives now.
#
# For each input: llb-gen's answer (the first error line, or "built"), its
# wall time, and its peak memory (GNU time's maximum resident set; the
# evaluation runs in llb-gen's process, on a thread bounded to 256 MiB).
# With BUILDX=1 (after scripts/e2e-setup.sh), the same file through
# `docker buildx build` and the frontend image: the build's wall time
# (buildx and the daemon included) and the frontend's peak memory from its
# report (ENVD_FRONTEND_REPORT=1; the evaluation's included).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/time ]; then
  echo "bench-findings: installing GNU time" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
cargo build --release -q -p llb-gen
bin=target/release/llb-gen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

header='def build():
    base(os="ubuntu22.04")'

# generate NAME: build.envd from stdin.
generate() {
  mkdir -p "$work/$1"
  cat >"$work/$1/build.envd"
}
runs() {
  printf '%s\n' "$header"
  for i in $(seq "$1"); do printf '    run(commands=["echo %d"])\n' "$i"; done
}
runs 20000 | generate runs_20k
runs 65000 | generate runs_65k
printf '%s\n    config.conda_channel(channel="a:" + " [" * %d)\n' "$header" 40000 | generate channel_flow_40k
printf '%s\n    config.conda_channel(channel="a:" + " [" * %d)\n' "$header" 100000 | generate channel_flow_100k
printf '%s\n    install.conda_packages(env_file="env.yaml")\n' "$header" | generate env_yaml_80k
{
  printf 'name: deep\ndependencies: '
  for _ in $(seq 40000); do printf '[ '; done
  printf '\n'
} >"$work/env_yaml_80k/env.yaml"
for fixture in nesting_brackets nesting_operator_chain memory_list_repeat \
  memory_string_repeat memory_constant_in_function heap_blowup \
  conda_env_billion_laughs requirements_include_loop_through_link; do
  cp -a "llb-gen/tests/fixtures/invalid/$fixture" "$work/$fixture"
done
cp -a llb-gen/tests/fixtures/valid/unicode_indented_config_text "$work/unicode_indent"

printf '| input | llb-gen says | time | peak memory |\n|---|---|---|---|\n'
for dir in "$work"/*/; do
  name=$(basename "$dir")
  out="$work/$name.out"
  /usr/bin/time -o "$work/$name.time" -f '%e %M' \
    "$bin" "$dir/build.envd" --context "$dir" >"$out" 2>&1 || true
  # GNU time writes "Command exited with non-zero status N" first.
  read -r seconds kib < <(tail -n1 "$work/$name.time")
  said=$(grep -m1 'error:' "$out" | cut -c1-110 || true)
  printf '| %s | %s | %.2f s | %d MiB |\n' "$name" "${said:-built}" "$seconds" $((kib / 1024))
done

if [ "${BUILDX:-0}" = 1 ]; then
  printf '\n| input | through buildx | wall time | frontend peak memory |\n|---|---|---|---|\n'
  for dir in "$work"/*/; do
    name=$(basename "$dir")
    { echo '# syntax=aiges/envd-frontend'; cat "$dir/build.envd"; } >"$dir/with-syntax.envd"
    start=${EPOCHREALTIME/./}
    if docker buildx build --progress=plain -f "$dir/with-syntax.envd" \
      --network=host --allow network.host \
      --build-arg ENVD_BASE_IMAGE=envd-test/cpu:latest \
      --build-arg ENVD_FRONTEND_REPORT=1 \
      "$dir" >"$work/$name.buildx" 2>&1; then
      result=built
    else
      result=$(grep -m1 -o 'with-syntax.envd:[0-9]*: .*' "$work/$name.buildx" | cut -c1-90 || true)
      result=${result:-$(grep -m1 'ERROR' "$work/$name.buildx" | cut -c1-90 || true)}
    fi
    end=${EPOCHREALTIME/./}
    kib=$(grep -m1 -o 'peak_rss_kib=[0-9]*' "$work/$name.buildx" | cut -d= -f2 || true)
    printf '| %s | %s | %d ms | %s |\n' "$name" "$result" $(((end - start) / 1000)) \
      "${kib:+$((kib / 1024)) MiB}"
  done
fi
