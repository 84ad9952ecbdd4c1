#!/usr/bin/env python3
"""A PEP 503 package index for the e2e suite, served on 127.0.0.1.

Wheels in --root are listed at /simple/<name>/ and served from
/files/<token>/ with `Cache-Control: max-age=..., immutable`, as real
indexes and mirrors serve them (without it pip re-downloads on every
build). The token is new for each server: pip's cache (a cache mount that
outlives the suite) is keyed by URL, and a port an earlier server had
must not make its files look cached to a later test that counts
downloads. Every file download is
appended to --log (name, tab, bytes), so tests can count what builds fetched.
With --login USER:PASSWORD every request needs that HTTP basic-auth login
(401 otherwise), as a private mirror does. Prints the port.
"""
import argparse
import html
import os
import re
import sys

# The servers' shared handler (tests/e2e/serving.py).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from serving import Handler, main  # noqa: E402


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename):
    return normalize(filename.split("-")[0])


# This server's part of its file URLs (see above).
TOKEN = os.urandom(8).hex()


class Index(Handler):
    def do_GET(self):
        if self.refused():
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
                return self.not_found()
            links = "".join('<a href="/files/%s/%s">%s</a>\n' % (TOKEN, html.escape(f), html.escape(f)) for f in mine)
            return self.send(200, ("<html><body>\n%s</body></html>\n" % links).encode(), "text/html", "max-age=60")
        match = re.fullmatch(r"/files/%s/([^/]+)" % TOKEN, path)
        if match and match.group(1) in files:
            with open(os.path.join(self.root, match.group(1)), "rb") as f:
                return self.send_package(match.group(1), f.read())
        return self.not_found()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    main(Index, parser)
