"""What the e2e suite's package servers share (index/serve.py for pip,
conda/serve.py for conda): a handler that answers HEAD like GET, can ask
for an HTTP basic-auth login (401 otherwise, as a private mirror does),
logs each package download (file name, tab, bytes) for the tests to count,
and serves package files immutable, as real indexes and their mirrors do.
`main` reads the common options, serves on 127.0.0.1 and prints the port.
"""
import argparse
import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    root = "."
    log_path = None
    login = None
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def send(self, status, body, content_type, cache):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if cache:
            self.send_header("Cache-Control", cache)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def not_found(self):
        return self.send(404, b"not found\n", "text/plain", None)

    def do_HEAD(self):
        self.do_GET()

    def refused(self):
        """Answers 401 and says so when a login is wanted and not given."""
        if self.login is None:
            return False
        expected = "Basic " + base64.b64encode(self.login.encode()).decode()
        if self.headers.get("Authorization") == expected:
            return False
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="envd-e2e"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def send_package(self, name, body):
        """A package file: logged (GETs only) and served immutable."""
        if self.command == "GET" and self.log_path:
            with self.lock, open(self.log_path, "a") as log:
                log.write("%s\t%d\n" % (name, len(body)))
        return self.send(200, body, "application/octet-stream", "max-age=31536000, immutable")


def main(handler, parser):
    """Adds the common options to `parser`, sets them on `handler`, and
    serves; returns never. The parsed options are on `handler.args`."""
    parser.add_argument("--log")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--login")
    args = parser.parse_args()
    handler.args = args
    handler.root = args.root
    handler.log_path = args.log
    handler.login = args.login
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
