# Test image: the CPU base with Debian's R (r-base-core), for
# install.r_packages. Built with --network=host: apt reaches the Debian
# mirror the CPU base was made from.
FROM envd-test/cpu:latest
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends r-base-core >/dev/null \
 && rm -rf /var/lib/apt/lists/*
