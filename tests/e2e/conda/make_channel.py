#!/usr/bin/env python3
"""Builds the local conda channel the e2e suite serves (tests/e2e/conda/serve.py).

Usage: make_channel.py OUT_DIR   (run with a Python that has conda,
conda-index and conda-package-handling: scripts/e2e-setup.sh conda makes one)

Tiny hand-made `noarch: generic` packages, packed with conda-package-handling
and indexed with conda-index, so real conda can solve and install from it
offline. Every package installs a marker file
`share/envd-conda-test/<name>-<version>`, so tests can see what got installed:

  envd-conda-alpha    1.0, 2.0 (2.0 depends on envd-conda-beta >=1.1,<2)
  envd-conda-beta     1.0, 1.1, 2.0
  envd-conda-prefixed 1.0: etc/envd-conda-prefixed.conf holds conda's prefix
                      placeholder, which conda rewrites to the install prefix
  python 3.11.4 (build h955ad1f_0) and pip 23.2.1 (build py311h06a4308_0):
                      placeholders, so env files shaped like a real `conda
                      env export` resolve. They install their marker and the
                      programs an environment has: python's `bin/python3`
                      is a link to the image's /usr/bin/python3 (and
                      `bin/python` to it), as in the suite's conda, a venv;
                      pip's `bin/pip` and `bin/pip3` run `python3 -m pip`
                      beside them. Installed into the suite's conda itself,
                      they change nothing.

The set-up script rebuilds the channel whenever this file changes.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

from conda_package_handling import api as cph

PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
# Fixed, so a rebuilt channel lists the same metadata (2026-01-01, in ms).
TIMESTAMP = 1767225600000

# What the placeholder python and pip install besides their marker:
# symbolic links (path -> target) and plain scripts.
LINKS = {"python": {"bin/python": "python3", "bin/python3": "/usr/bin/python3"}}
PIP_SCRIPT = '#!/bin/sh\nexec "$(dirname "$0")/python3" -m pip "$@"\n'
SCRIPTS = {"pip": {"bin/pip": PIP_SCRIPT, "bin/pip3": PIP_SCRIPT}}

# (name, version, build, depends, extra text files holding the placeholder)
PACKAGES = [
    ("envd-conda-alpha", "1.0", "0", [], {}),
    ("envd-conda-alpha", "2.0", "0", ["envd-conda-beta >=1.1,<2"], {}),
    ("envd-conda-beta", "1.0", "0", [], {}),
    ("envd-conda-beta", "1.1", "0", [], {}),
    ("envd-conda-beta", "2.0", "0", [], {}),
    ("envd-conda-prefixed", "1.0", "0", [], {
        "etc/envd-conda-prefixed.conf":
            "prefix=%s\nmarkers=%s/share/envd-conda-test\n" % (PLACEHOLDER, PLACEHOLDER),
    }),
    ("python", "3.11.4", "h955ad1f_0", [], {}),
    ("pip", "23.2.1", "py311h06a4308_0", [], {}),
]


def write(root, rel, data):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return data


def package(work, out, name, version, build, depends, prefixed):
    root = os.path.join(work, "%s-%s-%s" % (name, version, build))
    files = {"share/envd-conda-test/%s-%s" % (name, version): ("%s %s\n" % (name, version)).encode()}
    files.update({rel: text.encode() for rel, text in prefixed.items()})
    scripts = SCRIPTS.get(name, {})
    files.update({rel: text.encode() for rel, text in scripts.items()})
    paths = []
    for rel, target in sorted(LINKS.get(name, {}).items()):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(target, path)
        paths.append({
            "_path": rel,
            "path_type": "softlink",
            "sha256": hashlib.sha256(target.encode()).hexdigest(),
            "size_in_bytes": len(target),
        })
    for rel, data in sorted(files.items()):
        write(root, rel, data)
        if rel in scripts:
            os.chmod(os.path.join(root, rel), 0o755)
        entry = {
            "_path": rel,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_in_bytes": len(data),
        }
        if rel in prefixed:
            entry.update(file_mode="text", prefix_placeholder=PLACEHOLDER)
        paths.append(entry)
    index = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": int(build.rsplit("_", 1)[-1]),
        "depends": depends,
        "license": "BSD-3-Clause",
        "noarch": "generic",
        "subdir": "noarch",
        "timestamp": TIMESTAMP,
    }
    write(root, "info/index.json", json.dumps(index, indent=2, sort_keys=True).encode())
    write(root, "info/paths.json", json.dumps({"paths": paths, "paths_version": 1}, indent=2).encode())
    everything = sorted(list(files) + list(LINKS.get(name, {})))
    write(root, "info/files", "".join(rel + "\n" for rel in everything).encode())
    if prefixed:
        # The older form of the same declaration, for tools that read only it.
        write(root, "info/has_prefix", "".join("%s text %s\n" % (PLACEHOLDER, rel) for rel in sorted(prefixed)).encode())
    listing = everything + sorted("info/" + f for f in os.listdir(os.path.join(root, "info")))
    cph.create(root, listing, "%s-%s-%s.conda" % (name, version, build), out_folder=out)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = os.path.abspath(sys.argv[1])
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    # Built beside OUT_DIR and swapped in whole, so a half-built channel is never served.
    staging = tempfile.mkdtemp(prefix=".channel-", dir=parent)
    try:
        with tempfile.TemporaryDirectory() as work:
            os.makedirs(os.path.join(staging, "noarch"))
            for name, version, build, depends, prefixed in PACKAGES:
                package(work, os.path.join(staging, "noarch"), name, version, build, depends, prefixed)
        done = subprocess.run([sys.executable, "-m", "conda_index", "--no-rss", "--no-current-repodata", staging],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            sys.exit("conda_index failed:\n" + done.stdout)
        # conda-index's incremental cache; the channel is always built whole.
        shutil.rmtree(os.path.join(staging, "noarch", ".cache"), ignore_errors=True)
        os.chmod(staging, 0o755)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.rename(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


if __name__ == "__main__":
    main()
