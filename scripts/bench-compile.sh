#!/usr/bin/env bash
# Compile-time benchmark of the seed example: criterion's in-process median,
# then the wall time of whole `llb-gen` processes (median and p90 of N runs).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-200}"
seed=llb-gen/tests/fixtures/valid/seed/build.envd

cargo bench -p llb-gen --bench compile -- --noplot 2>&1 | grep -E "^compile|time:"
cargo build --release -q -p llb-gen
bin=target/release/llb-gen
"$bin" "$seed" >/dev/null 2>&1
times=()
# EPOCHREALTIME is read by bash itself, so no extra process is timed.
for _ in $(seq "$runs"); do
  start=${EPOCHREALTIME/./}
  "$bin" "$seed" >/dev/null 2>&1
  end=${EPOCHREALTIME/./}
  times+=($(( end - start )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
median=${sorted[$(( runs / 2 ))]}
p90=${sorted[$(( runs * 9 / 10 ))]}
printf 'llb-gen process, seed example, %d runs: median %d.%03d ms, p90 %d.%03d ms\n' \
  "$runs" $((median / 1000)) $((median % 1000)) $((p90 / 1000)) $((p90 % 1000))
