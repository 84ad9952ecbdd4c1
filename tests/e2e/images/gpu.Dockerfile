# Test image: a "GPU" base built on the CPU one, so its layer chain begins
# with the CPU image's (as AIGES' GPU images do). It holds no GPU libraries.
FROM envd-test/cpu:latest
RUN echo gpu > /etc/envd-test-variant && mkdir -p /usr/local/cuda/lib64 && echo stand-in > /usr/local/cuda/version.txt
