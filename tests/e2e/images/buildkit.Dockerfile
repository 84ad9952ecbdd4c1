# Test image: BuildKit 0.25 built from source (scripts/e2e-setup.sh
# buildkit), run by buildx as a docker-container builder. On the CPU base,
# with its Debian release's runc: BuildKit's process helpers need a libc
# and a shell. Built with --network=host to reach the Debian mirror.
FROM envd-test/cpu:latest
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY buildkitd buildctl /usr/local/bin/
VOLUME /var/lib/buildkit
ENTRYPOINT ["buildkitd"]
