# Sourced by scripts: serves the test wheels as a package index on
# 127.0.0.1 for the rest of the calling script, and sets $index to its URL.
state="${ENVD_E2E_STATE:-/var/tmp/envd-frontend-e2e}"
port_file=$(mktemp)
python3 tests/e2e/index/serve.py --root "$state/wheels" >"$port_file" &
index_pid=$!
trap 'kill $index_pid 2>/dev/null || true; rm -f "$port_file"' EXIT
for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
[ -s "$port_file" ] || { echo "the package index did not start" >&2; exit 1; }
index="http://127.0.0.1:$(head -1 "$port_file")/simple"
