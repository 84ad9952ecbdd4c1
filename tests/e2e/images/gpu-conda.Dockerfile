# Test image: the GPU variant with the stand-in conda, for variant tests.
FROM envd-test/gpu:latest
COPY conda-standin /opt/conda/bin/conda
ENV PATH=/opt/conda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
