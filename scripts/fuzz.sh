#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of the targets in
# tests/fuzz: the whole compile with its context files, the frontend's
# options, and the conda environment, requirements and PEP 508 parsers.
#
#   scripts/fuzz.sh [SECONDS]   run each target SECONDS (default 60) from the
#                               checked-in corpus; fail on a crash, a leak or
#                               an input that runs over 5 s or 2 GiB
#   scripts/fuzz.sh seed        write seeds from the fixtures into the corpus
#   scripts/fuzz.sh cmin        minimise the checked-in corpora
#
# The toolchain here is stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its
# -Z flags, and `-s none` builds without a sanitizer (coverage only).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(compile options conda_env requirements pep508)
fuzz_dir=tests/fuzz
corpus=$fuzz_dir/corpus
dict=$fuzz_dir/build-envd.dict
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/fuzz}"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi

seed() {
  python3 - "$corpus" <<'PY'
import json, os, sys, hashlib
corpus = sys.argv[1]
fixtures = "llb-gen/tests/fixtures"
def put(target, data):
    os.makedirs(f"{corpus}/{target}", exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(f"{corpus}/{target}/seed-{name}", "wb") as f:
        f.write(data)
for kind in ("valid", "invalid"):
    for case in sorted(os.listdir(f"{fixtures}/{kind}")):
        # These build values of hundreds of MB on purpose: they test the
        # evaluation's memory bound, which the fuzz target does not use.
        if case.startswith(("memory_", "heap_")):
            continue
        root = f"{fixtures}/{kind}/{case}"
        data = open(f"{root}/build.envd", "rb").read()
        for dirpath, _, names in os.walk(root):
            for name in sorted(names):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                if rel in ("build.envd", "options.json") or os.path.islink(path):
                    continue
                content = open(path, "rb").read()
                if len(content) > 4096:
                    continue
                data += b"\n#--- " + rel.encode() + b"\n" + content
                if name.endswith(".txt"):
                    put("requirements", content)
                if name.endswith((".yaml", ".yml")):
                    put("conda_env", content)
        if os.path.exists(f"{root}/options.json"):
            args = json.load(open(f"{root}/options.json")).get("build_args", {})
            data += b"\n#--- @build-args\n" + "".join(f"{k}={v}\n" for k, v in args.items()).encode()
        if len(data) <= 16384:
            put("compile", data)
for spec in ["numpy", "torch==1.10", "mmcv-full>=1.3,<2", "requests[socks]; python_version>'3'",
             "pkg @ https://example.invalid/pkg-1.0.whl", "a.b_c~=1.0"]:
    put("pep508", spec.encode())
put("options", b"filename=build.envd\nbuild-arg:ENVD_PIP_INDEX=http://127.0.0.1/simple\nplatform=linux/amd64,linux/arm64\n"
               b"label:team=asr\nforce-network-mode=host\nimage-resolve-mode=local\nno-cache=\n"
               b"cache-imports=[{\"Type\":\"local\",\"Attrs\":{\"src\":\"/tmp/cache\"}}]\n"
               b"build-arg:ENVD_PYTHON_VERSION=3.11\nbuild-arg:ENVD_FRONTEND_REPORT=1\ntarget=build_gpu\n")
PY
}

case "${1:-60}" in
  seed) seed ;;
  cmin)
    for target in "${targets[@]}"; do
      cargo fuzz cmin --fuzz-dir "$fuzz_dir" -s none "$target" "$corpus/$target" -- -dict="$dict"
    done
    ;;
  *)
    seconds="$1"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    cargo fuzz build --fuzz-dir "$fuzz_dir" -s none
    for target in "${targets[@]}"; do
      mkdir -p "$work/$target"
      echo "[fuzz] $target for ${seconds}s"
      # New inputs go to a scratch folder; the checked-in corpus is read only.
      status=0
      cargo fuzz run --fuzz-dir "$fuzz_dir" -s none "$target" "$work/$target" "$corpus/$target" -- \
        -max_total_time="$seconds" -seed=1 -timeout=5 -rss_limit_mb=2048 -dict="$dict" \
        -artifact_prefix="$work/$target-" -print_final_stats=1 >"$work/$target.log" 2>&1 || status=$?
      grep -a -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done )" "$work/$target.log" || true
      if [ "$status" -ne 0 ] || ls "$work/$target"-* >/dev/null 2>&1; then
        echo "[fuzz] $target failed (exit $status):" >&2
        tail -n 40 "$work/$target.log" >&2
        for artifact in "$work/$target"-*; do
          [ -e "$artifact" ] || continue
          echo "--- $artifact (first 2000 bytes)" >&2
          head -c 2000 "$artifact" >&2
          echo >&2
        done
        exit 1
      fi
    done
    # The plain closing line CI reads: every target ran and found nothing.
    echo "fuzz: ${#targets[@]} passed, 0 failed"
    ;;
esac
