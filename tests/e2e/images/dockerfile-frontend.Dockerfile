# Benchmark image: BuildKit 0.25's own Dockerfile frontend as a gateway
# image (what `# syntax=docker/dockerfile` pulls), built from source by
# scripts/e2e-setup.sh dockerfile-frontend: the real peer of a `# syntax=`
# frontend. The labels are upstream's release image's.
FROM scratch
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts,moby.buildkit.frontend.gitquerystring"
COPY dockerfile-frontend /bin/dockerfile-frontend
ENTRYPOINT ["/bin/dockerfile-frontend"]
