#!/usr/bin/env bash
# The language server's cost for an editor: time from opening the seed
# example to its first diagnostics (the server already started, as an
# editor keeps it), the time to answer after an edit, and the server's peak
# memory (VmHWM, the probe's child process not included). Prints figures;
# asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-50}"
cargo build --release -q -p llb-gen
python3 - target/release/llb-gen llb-gen/tests/fixtures/valid/seed "$runs" <<'PY'
import json, os, subprocess, sys, time

binary, folder, runs = sys.argv[1], os.path.abspath(sys.argv[2]), int(sys.argv[3])
server = subprocess.Popen([binary, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

def send(message):
    body = json.dumps(message).encode()
    server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    server.stdin.flush()

def receive():
    length = None
    while True:
        line = server.stdout.readline().strip()
        if not line:
            break
        if line.startswith(b"Content-Length: "):
            length = int(line.split(b": ")[1])
    return json.loads(server.stdout.read(length))

def diagnostics(uri):
    while True:
        message = receive()
        if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
            return message["params"]["diagnostics"]

send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
receive()
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
uri = "file://" + os.path.join(folder, "build.envd")
text = open(os.path.join(folder, "build.envd")).read()
start = time.perf_counter()
send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
      "params": {"textDocument": {"uri": uri, "languageId": "starlark", "version": 1, "text": text}}})
found = diagnostics(uri)
first = (time.perf_counter() - start) * 1000
changes = []
for version in range(2, runs + 2):
    start = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "textDocument/didChange",
          "params": {"textDocument": {"uri": uri, "version": version},
                     "contentChanges": [{"text": text + "\n" * (version % 2)}]}})
    diagnostics(uri)
    changes.append((time.perf_counter() - start) * 1000)
changes.sort()
with open("/proc/%d/status" % server.pid) as status:
    hwm = next(l.split()[1] for l in status if l.startswith("VmHWM"))
send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
receive()
send({"jsonrpc": "2.0", "method": "exit"})
server.wait()
print("llb-gen lsp, seed example: first diagnostics %.1f ms (%d of them); after an edit: median %.1f ms, p90 %.1f ms (%d edits); peak memory %s KiB"
      % (first, len(found), changes[len(changes) // 2], changes[len(changes) * 9 // 10], len(changes), hwm))
PY
