# Test image: a test base plus real conda at /opt/conda, as its own base
# prefix (scripts/e2e-setup.sh conda). conda is on no registry here: a venv
# over Debian's python3, with Debian's pycosat (the classic solver; it has
# no wheel), gets conda's dependencies and conda's own wheel from the build
# context, which the set-up script fills on the host (HTTPS to the package
# index fails inside containers). Built with --network=host: apt reaches the
# Debian mirror the base was made from.
#   BASE=envd-test/cpu:latest makes envd-test/conda; BASE=envd-test/gpu:latest
#   makes envd-test/gpu-conda, which so shares the GPU (and CPU) layers.
ARG BASE=envd-test/cpu:latest
FROM ${BASE}
ARG CONDA_VERSION
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pycosat >/dev/null \
 && rm -rf /var/lib/apt/lists/*
# Bind-mounted, not copied: the wheels stay out of the image. conda's own
# wheel goes in without its declared dependencies: it asks for menuinst and
# the libmamba solver, which no registry here has.
RUN --mount=type=bind,target=/tmp/conda-wheels \
    python3 -m venv --system-site-packages /opt/conda \
 && /opt/conda/bin/pip install -q --no-cache-dir --no-index --find-links /tmp/conda-wheels -r /tmp/conda-wheels/requirements.txt \
 && /opt/conda/bin/pip install -q --no-cache-dir --no-index --no-deps "/tmp/conda-wheels/conda-$CONDA_VERSION-py3-none-any.whl"
# pip's `conda` entry point refuses all but `info` and `init` until `conda
# init`, so the command is conda.cli.main() itself; the __main__ guard
# matters, as conda's virtual-package probe spawns a child that re-imports
# this script. conda-meta/history marks /opt/conda as a writable base
# prefix. The classic solver, as libmamba (the default) is on no registry.
RUN printf '#!/opt/conda/bin/python\nimport sys\n\nfrom conda.cli.main import main\n\nif __name__ == "__main__":\n    sys.exit(main())\n' > /opt/conda/bin/conda \
 && chmod 755 /opt/conda/bin/conda \
 && mkdir -p /opt/conda/conda-meta && touch /opt/conda/conda-meta/history \
 && printf 'solver: classic\n' > /opt/conda/.condarc
# What the set-up script rebuilds on: the base's ID, this file and the pins.
ARG RECIPE=unknown
ENV PATH=/opt/conda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL io.github.aiges.envd-frontend.conda=$CONDA_VERSION \
      io.github.aiges.envd-frontend.conda.recipe=$RECIPE
