#!/usr/bin/env python3
"""A conda channel server for the e2e suite, served on 127.0.0.1.

Serves the ONE channel folder --root (made by make_channel.py) under every
channel name given with --name (repeatable; a name may hold slashes, as
`pkgs/main` does): /NAME/SUBDIR/FILE is --root/SUBDIR/FILE. So one server
stands in for `defaults` (pkgs/main, pkgs/r), conda-forge, a channel_alias
and the like at once. A platform subdir the channel lacks (linux-64, ...)
answers an empty repodata.json, as real channels with only noarch packages
do; any other name or file is 404. Package files are served with
`Cache-Control: max-age=31536000, immutable`, as real channels and their
mirrors serve them, repodata with `max-age=60`. Every package download is
appended to --log (file name, tab, bytes), so tests can count what builds
fetched. With --login USER:PASSWORD every request needs that HTTP basic-auth
login (401 otherwise), as a private mirror does. Prints the port.
"""
import argparse
import base64
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

PACKAGE_SUFFIXES = (".conda", ".tar.bz2")
PLATFORM_SUBDIR = re.compile(r"(linux|osx|win|freebsd|zos|emscripten|wasi)-[a-z0-9_]+")
PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")


class Channel(BaseHTTPRequestHandler):
    root = "."
    names = ()
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

    def do_GET(self):
        if self.login is not None:
            expected = "Basic " + base64.b64encode(self.login.encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="envd-e2e"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        path = unquote(self.path.split("?")[0])
        # The longest name first: `pkgs` must not take `pkgs/main`'s requests.
        for name in sorted(self.names, key=len, reverse=True):
            if path.startswith("/%s/" % name):
                rest = path[len(name) + 2:].split("/")
                break
        else:
            return self.not_found()
        if len(rest) != 2 or not all(PLAIN_NAME.fullmatch(part) for part in rest):
            return self.not_found()
        subdir, filename = rest
        file = os.path.join(self.root, subdir, filename)
        if not os.path.isfile(file):
            if filename == "repodata.json" and PLATFORM_SUBDIR.fullmatch(subdir):
                empty = {"info": {"subdir": subdir}, "packages": {}, "packages.conda": {},
                         "removed": [], "repodata_version": 1}
                return self.send(200, json.dumps(empty).encode(), "application/json", "max-age=60")
            return self.not_found()
        with open(file, "rb") as f:
            body = f.read()
        if filename.endswith(PACKAGE_SUFFIXES):
            if self.command == "GET" and self.log_path:
                with self.lock, open(self.log_path, "a") as log:
                    log.write("%s\t%d\n" % (filename, len(body)))
            return self.send(200, body, "application/octet-stream", "max-age=31536000, immutable")
        content_type = "application/json" if filename.endswith(".json") else (
            "text/html" if filename.endswith(".html") else "application/octet-stream")
        return self.send(200, body, content_type, "max-age=60")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True, help="the channel folder (make_channel.py's output)")
    parser.add_argument("--name", action="append", required=True,
                        help="a channel name to serve it under (repeatable), e.g. conda-forge or pkgs/main")
    parser.add_argument("--log")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--login")
    args = parser.parse_args()
    Channel.root = args.root
    Channel.names = tuple(name.strip("/") for name in args.name)
    Channel.log_path = args.log
    Channel.login = args.login
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Channel)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
