# examples/aiges-wrapper/build.envd written as a Dockerfile, step for step,
# with the same cache mounts: the built-in frontend's side of the benchmark.
# The benchmark sets BASE for the GPU variant.
ARG BASE=envd-test/cpu:latest
FROM ${BASE}
ARG ENVD_PIP_INDEX
RUN ln -sf "$(command -v python3)" /usr/local/bin/python
RUN printf '[global]\nindex-url = %s\n' "$ENVD_PIP_INDEX" > /etc/pip.conf
RUN --mount=type=cache,id=bench-apt-cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,id=bench-apt-lists,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
 && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl procps
RUN --mount=type=cache,id=bench-pip,target=/root/.cache/pip \
    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    PIP_BREAK_SYSTEM_PACKAGES=1 PIP_TRUSTED_HOST=127.0.0.1 python -m pip install -r /tmp/requirements.txt
COPY --link . /home/aiges
RUN python /home/aiges/wrapper/wrapper.py --check
RUN mkdir -p /home/aiges/logs /home/aiges/models
ENV AIGES_WRAPPER=/home/aiges/wrapper
ENTRYPOINT ["python", "/home/aiges/wrapper/wrapper.py"]
