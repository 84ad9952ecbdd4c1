# Test image: BuildKit 0.25 built from source (scripts/e2e-setup.sh
# buildkit), run by buildx as a docker-container builder. On the CPU base:
# runc and BuildKit's process helpers need a libc and a shell.
FROM envd-test/cpu:latest
COPY buildkitd buildctl runc /usr/local/bin/
VOLUME /var/lib/buildkit
ENTRYPOINT ["buildkitd"]
