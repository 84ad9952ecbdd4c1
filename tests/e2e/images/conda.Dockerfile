# Test image: the CPU base plus a stand-in `conda` (no conda can be
# installed from the registries this project reaches; see conda-standin).
FROM envd-test/cpu:latest
COPY conda-standin /opt/conda/bin/conda
ENV PATH=/opt/conda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
