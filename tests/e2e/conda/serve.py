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
import json
import os
import re
import sys
from urllib.parse import unquote

# The servers' shared handler (tests/e2e/serving.py).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from serving import Handler, main  # noqa: E402

PACKAGE_SUFFIXES = (".conda", ".tar.bz2")
PLATFORM_SUBDIR = re.compile(r"(linux|osx|win|freebsd|zos|emscripten|wasi)-[a-z0-9_]+")
PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")


class Channel(Handler):
    def do_GET(self):
        if self.refused():
            return
        path = unquote(self.path.split("?")[0])
        # The longest name first: `pkgs` must not take `pkgs/main`'s requests.
        names = (name.strip("/") for name in self.args.name)
        for name in sorted(names, key=len, reverse=True):
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
            return self.send_package(filename, body)
        content_type = "application/json" if filename.endswith(".json") else (
            "text/html" if filename.endswith(".html") else "application/octet-stream")
        return self.send(200, body, content_type, "max-age=60")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True, help="the channel folder (make_channel.py's output)")
    parser.add_argument("--name", action="append", required=True,
                        help="a channel name to serve it under (repeatable), e.g. conda-forge or pkgs/main")
    main(Channel, parser)
