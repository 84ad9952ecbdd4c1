import subprocess, sys


def main():
    """`mim install PKG...` installs with pip, as the real mim does for plain packages."""
    if sys.argv[1:2] != ["install"]:
        sys.exit("test openmim: only `mim install` is implemented")
    subprocess.check_call([sys.executable, "-m", "pip", "install", *sys.argv[2:]])
