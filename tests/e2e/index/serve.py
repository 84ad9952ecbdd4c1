#!/usr/bin/env python3
"""A PEP 503 package index for the e2e suite, served on 127.0.0.1.

Wheels in --root are listed at /simple/<name>/ and served from /files/ with
`Cache-Control: max-age=..., immutable`, as real indexes and mirrors serve
them (without it pip re-downloads on every build). Every file download is
appended to --log (name, tab, bytes), so tests can count what builds fetched.
With --login USER:PASSWORD every request needs that HTTP basic-auth login
(401 otherwise), as a private mirror does. Prints the port.
"""
import argparse
import base64
import html
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename):
    return normalize(filename.split("-")[0])


class Index(BaseHTTPRequestHandler):
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

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.login is not None:
            expected = "Basic " + base64.b64encode(self.login.encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="envd-e2e"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        files = sorted(f for f in os.listdir(self.root) if f.endswith((".whl", ".tar.gz")))
        path = self.path.split("?")[0]
        if path in ("/simple", "/simple/"):
            names = sorted({project_of(f) for f in files})
            links = "".join('<a href="/simple/%s/">%s</a>\n' % (n, n) for n in names)
            return self.send(200, ("<html><body>\n%s</body></html>\n" % links).encode(), "text/html", "max-age=60")
        match = re.fullmatch(r"/simple/([^/]+)/?", path)
        if match:
            wanted = normalize(match.group(1))
            mine = [f for f in files if project_of(f) == wanted]
            if not mine:
                return self.send(404, b"not found\n", "text/plain", None)
            links = "".join('<a href="/files/%s">%s</a>\n' % (html.escape(f), html.escape(f)) for f in mine)
            return self.send(200, ("<html><body>\n%s</body></html>\n" % links).encode(), "text/html", "max-age=60")
        match = re.fullmatch(r"/files/([^/]+)", path)
        if match and match.group(1) in files:
            with open(os.path.join(self.root, match.group(1)), "rb") as f:
                body = f.read()
            if self.command == "GET" and self.log_path:
                with self.lock, open(self.log_path, "a") as log:
                    log.write("%s\t%d\n" % (match.group(1), len(body)))
            return self.send(200, body, "application/octet-stream", "max-age=31536000, immutable")
        return self.send(404, b"not found\n", "text/plain", None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--log")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--login")
    args = parser.parse_args()
    Index.root = args.root
    Index.log_path = args.log
    Index.login = args.login
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Index)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
