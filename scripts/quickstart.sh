#!/usr/bin/env bash
# The main job: build the frontend image, then an example image with it.
# Builds examples/aiges-wrapper through `# syntax=aiges/envd-frontend` with
# `docker buildx build`, pointing its base at the local test image and its
# pip mirror at a package index served on 127.0.0.1, and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
# Only what the example needs (the test suite's set-up also builds BuildKit,
# an arm64 base and real conda).
scripts/e2e-setup.sh images
scripts/e2e-setup.sh wheels
scripts/e2e-setup.sh frontend
source scripts/lib/index.sh

docker buildx build -f examples/aiges-wrapper/build.envd \
  --build-arg ENVD_BASE_IMAGE_AIGES_CPU=envd-test/cpu:latest \
  --build-arg ENVD_PIP_INDEX="$index" \
  --network=host --allow network.host \
  -t aiges-wrapper-example:latest --load examples/aiges-wrapper
docker run --rm aiges-wrapper-example:latest
