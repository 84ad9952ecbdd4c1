#!/usr/bin/env bash
# Idempotent set-up for the end-to-end suite and the quick start, for CI and
# developers alike: a Docker engine with buildx (installed only where none
# runs and apt is the package manager), the test base images (made from
# Debian packages: no registry is needed), real conda in the conda variants
# with a local channel, and the frontend image.
#
# Usage: scripts/e2e-setup.sh [docker|images|conda|wheels|frontend|envd|registry|docker20|buildkit|qemu|arm64|podman|dockerfile-frontend|all]   (default: all)
# Prints nothing on success; state lives in $ENVD_E2E_STATE (default /var/tmp/envd-frontend-e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE_DIR="${ENVD_E2E_STATE:-/var/tmp/envd-frontend-e2e}"
mkdir -p "$STATE_DIR"
log() { printf '[e2e-setup] %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian trixie as a second apt source at low priority (reusing the URIs
# of the existing bookworm source), for Docker 26 and Go 1.24; updated.
ensure_trixie_source() {
  local sources=/etc/apt/sources.list.d/debian.sources
  if [ -f "$sources" ] && [ ! -f /etc/apt/sources.list.d/envd-trixie.sources ]; then
    sed -e 's/^Suites:.*/Suites: trixie/' "$sources" \
      | awk 'BEGIN{RS=""; ORS="\n\n"} /debian-security/ {next} {print}' \
      | as_root tee /etc/apt/sources.list.d/envd-trixie.sources >/dev/null
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' | as_root tee /etc/apt/preferences.d/envd-trixie >/dev/null
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
}

ensure_docker() {
  if docker info >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1; then
    check_image_store
    return
  fi
  if ! command -v dockerd >/dev/null 2>&1 || ! docker buildx version >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || { log "no Docker engine runs and apt-get is missing: install Docker with buildx"; exit 1; }
    log "installing Docker Engine and buildx from Debian trixie"
    # bookworm's docker.io is too old for buildx; trixie's runs on bookworm.
    ensure_trixie_source
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie docker.io docker-buildx >/dev/null
  fi
  if ! docker info >/dev/null 2>&1; then
    # The containerd image store gives BuildKit merge and diff ops, which
    # let variants share base-independent layers; the frontend falls back
    # without them, but builds then share less.
    if [ ! -f /etc/docker/daemon.json ]; then
      as_root mkdir -p /etc/docker
      echo '{"features": {"containerd-snapshotter": true}}' | as_root tee /etc/docker/daemon.json >/dev/null
    fi
    log "starting dockerd (log: /tmp/dockerd.log)"
    # In /: the daemon keeps its working directory, and BuildKit's git
    # fails once that folder (a CI checkout) is deleted.
    # The subshell's own output is closed too, so a caller that pipes
    # this script's output is not held open by the daemon.
    (cd / && as_root setsid dockerd >/tmp/dockerd.log 2>&1 < /dev/null &) >/dev/null 2>&1 </dev/null
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { log "dockerd did not start; see /tmp/dockerd.log"; tail -20 /tmp/dockerd.log >&2; exit 1; }
  fi
  check_image_store
}

# A daemon that keeps images in its classic store (the default of many
# installs) gives BuildKit no merge and diff ops: the suite's tests of
# base families and shared variant layers skip there, saying so.
check_image_store() {
  case "$(docker info --format '{{json .DriverStatus}}' 2>/dev/null)" in
    *io.containerd.snapshotter*) ;;
    *) log "this dockerd keeps images in its classic store: the 3 end-to-end tests that need BuildKit's merge and diff ops will skip; to run them, add {\"features\": {\"containerd-snapshotter\": true}} to /etc/docker/daemon.json and restart dockerd" ;;
  esac
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# The Debian mirror apt already uses (no host name is written here).
debian_mirror() {
  local sources=/etc/apt/sources.list.d/debian.sources
  if [ -f "$sources" ]; then
    awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' "$sources"
  else
    awk '/^deb / && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list
  fi
}

# BuildKit clones git sources (include(git=...)) with the host's git; the
# end-to-end suite serves a repository with `git daemon`.
ensure_git() {
  command -v git >/dev/null 2>&1 && [ -x "$(git --exec-path)/git-daemon" ] && return
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git >/dev/null
}

# Docker's Debian images ship this apt hook; the test bases are made like them.
docker_clean_hook() {
  printf 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\nAPT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\nDir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n'
}

ensure_images() {
  if ! have_image envd-test/cpu:latest; then
    command -v debootstrap >/dev/null 2>&1 || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    local rootfs="$STATE_DIR/rootfs-cpu"
    as_root rm -rf "$rootfs"
    log "debootstrap of the CPU test base (about a minute)"
    as_root debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates \
      bookworm "$rootfs" "$(debian_mirror)" >"$STATE_DIR/debootstrap.log" 2>&1 \
      || { tail -20 "$STATE_DIR/debootstrap.log" >&2; exit 1; }
    docker_clean_hook | as_root tee "$rootfs/etc/apt/apt.conf.d/docker-clean" >/dev/null
    as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    as_root tar -C "$rootfs" -c . | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["bash"]' - envd-test/cpu:latest >/dev/null
    as_root rm -rf "$rootfs"
  fi
  # The "GPU" variant extends the CPU base, as AIGES' GPU images extend theirs.
  if ! have_image envd-test/gpu:latest; then
    docker buildx build -q --load -t envd-test/gpu:latest -f tests/e2e/images/gpu.Dockerfile tests/e2e/images >/dev/null
  fi
  # The conda variants (envd-test/conda, envd-test/gpu-conda): ensure_conda.
  if ! have_image envd-test/r:latest; then
    log "the R test base: Debian's r-base-core (about a minute)"
    docker buildx build -q --load --network=host -t envd-test/r:latest -f tests/e2e/images/r.Dockerfile tests/e2e/images >/dev/null
  fi
}

# Wheels for the local package index the e2e suite serves on 127.0.0.1.
ensure_wheels() {
  local dir="$STATE_DIR/wheels" missing=0 project
  for project in tests/e2e/packages/*/; do
    compgen -G "$dir/$(basename "$project" | tr - _)-*.whl" >/dev/null || missing=1
  done
  if [ -f "$dir/.complete" ] && [ "$missing" = 0 ]; then return; fi
  log "building test wheels into $dir"
  rm -rf "$dir" && mkdir -p "$dir"
  for project in tests/e2e/packages/*/; do
    python3 -m pip wheel -q --no-deps -w "$dir" "$project"
  done
  # For pip's isolated builds inside images (editable installs of setup.py projects).
  python3 -m pip download -q --only-binary :all: --no-deps -d "$dir" setuptools wheel
  touch "$dir/.complete"
}

# PyPI's uv wheel, which carries the uv binary of envd 1.3.4's pinned uv
# release: the end-to-end suite repacks it as that release's archive and
# serves it through ENVD_DOWNLOAD_MIRRORS (GitHub is not reached here).
UV_VERSION=0.9.22
ensure_uv_wheel() {
  local dir="$STATE_DIR/uv"
  compgen -G "$dir/uv-$UV_VERSION-*.whl" >/dev/null && return
  log "fetching uv $UV_VERSION's wheel into $dir"
  mkdir -p "$dir"
  python3 -m pip download -q --only-binary :all: --no-deps -d "$dir" "uv==$UV_VERSION"
}

ensure_frontend() {
  log "building the frontend image aiges/envd-frontend:latest"
  # Static, and not position-independent: no relocation table to carry.
  RUSTFLAGS='-C target-feature=+crt-static -C relocation-model=static' \
    cargo build --profile image -q -p envd-frontend --bin envd-frontend --target x86_64-unknown-linux-gnu
  local ctx="$STATE_DIR/frontend-context"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp target/x86_64-unknown-linux-gnu/image/envd-frontend "$ctx/"
  docker buildx build -q --load --target prebuilt -t aiges/envd-frontend:latest -f Dockerfile.frontend "$ctx" >/dev/null
}

# Debian's registry, for the second-machine cache test.
ensure_registry() {
  command -v docker-registry >/dev/null 2>&1 && return
  log "installing Debian's docker-registry"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
}

# Docker 20.10, the oldest the users' process document allows, unpacked
# (not installed) from Debian bookworm's docker.io: the 20.10 job runs its
# dockerd in place of the usual one, with the installed containerd and runc.
ensure_docker20() {
  local dir="$STATE_DIR/docker-20.10"
  [ -x "$dir/usr/sbin/dockerd" ] && [ -x "$dir/usr/bin/docker" ] && return
  local version
  version=$(apt-cache madison docker.io | awk '$3 ~ /^20\.10\./ {print $3; exit}')
  [ -n "$version" ] || { log "no docker.io 20.10 in the apt sources (Debian bookworm has it)"; exit 1; }
  log "unpacking docker.io $version into $dir"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq "docker.io=$version" 2>/dev/null)
  rm -rf "$dir" && mkdir -p "$dir"
  dpkg -x "$tmp"/docker.io_*.deb "$dir"
  rm -rf "$tmp"
  # Its dockerd links libraries the usual Docker may not have installed.
  local missing
  missing=$(ldd "$dir/usr/sbin/dockerd" | awk '/not found/ {print $1}')
  if [ -n "$missing" ]; then
    log "installing libraries dockerd 20.10 needs: $missing"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libdevmapper1.02.1 >/dev/null
  fi
}

# BuildKit 0.25, built from its vendored source with Debian's Go (no
# registry carries buildkitd): buildctl on the host, and an image that a
# buildx docker-container builder runs (on the CPU test base, with its
# Debian release's runc).
BUILDKIT_VERSION=0.25.2
BUILDKIT_COMMIT=dcc0fe5e96ae78919b30057d0804c52f13a2eb7e
BUILDKIT_IMAGE=envd-test/buildkit:$BUILDKIT_VERSION
DOCKERFILE_FRONTEND_IMAGE=envd-test/dockerfile-frontend:$BUILDKIT_VERSION
ensure_buildkit() {
  local dir="$STATE_DIR/buildkit-$BUILDKIT_VERSION"
  # The Dockerfile frontend too: the build benchmark's peer gateway image.
  local built="$BUILDKIT_COMMIT with dockerfile-frontend"
  if [ "$(cat "$dir/bin/.built" 2>/dev/null)" != "$built" ]; then
    local archive="${ENVD_BUILDKIT_SOURCE:-$ROOT/../shared/vendor/buildkit-$BUILDKIT_VERSION.tar.gz}"
    [ -f "$archive" ] || { log "no BuildKit $BUILDKIT_VERSION source at $archive: set ENVD_BUILDKIT_SOURCE to moby/buildkit's v$BUILDKIT_VERSION tree with its vendor/ folder, as a .tar.gz"; exit 1; }
    local go=/usr/lib/go-1.24/bin/go
    if [ ! -x "$go" ]; then
      log "installing Debian's Go 1.24 (trixie) to build BuildKit"
      ensure_trixie_source
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t trixie golang-1.24-go >/dev/null
    fi
    log "building buildkitd, buildctl and the Dockerfile frontend $BUILDKIT_VERSION from source (a few minutes)"
    rm -rf "$dir" && mkdir -p "$dir/src" "$dir/bin"
    tar -C "$dir/src" --strip-components=1 -xzf "$archive"
    local package target version=github.com/moby/buildkit/version
    for package in cmd/buildkitd cmd/buildctl frontend/dockerfile/cmd/dockerfile-frontend; do
      target=$(basename "$package")
      (cd "$dir/src" && GOFLAGS=-mod=vendor CGO_ENABLED=0 GOTOOLCHAIN=local GOCACHE="$STATE_DIR/go-cache" \
        "$go" build -trimpath -tags "netgo static_build osusergo" \
          -ldflags "-X $version.Version=v$BUILDKIT_VERSION -X $version.Revision=$BUILDKIT_COMMIT -X $version.Package=github.com/moby/buildkit" \
          -o "$dir/bin/$target.tmp" "./$package")
      mv "$dir/bin/$target.tmp" "$dir/bin/$target"
    done
    rm -rf "$dir/src"
    echo "$built" > "$dir/bin/.built"
    docker image rm -f "$BUILDKIT_IMAGE" "$DOCKERFILE_FRONTEND_IMAGE" >/dev/null 2>&1 || true
  fi
  if ! have_image "$BUILDKIT_IMAGE"; then
    local ctx="$STATE_DIR/buildkit-context"
    rm -rf "$ctx" && mkdir -p "$ctx"
    cp "$dir/bin/buildkitd" "$dir/bin/buildctl" "$ctx/"
    # --network=host: apt in the image reaches the Debian mirror for runc.
    docker buildx build -q --load --network=host -t "$BUILDKIT_IMAGE" -f tests/e2e/images/buildkit.Dockerfile "$ctx" >/dev/null
  fi
}

# BuildKit 0.25's Dockerfile frontend (built by ensure_buildkit) as a
# gateway image, for the build benchmark's peer column.
ensure_dockerfile_frontend() {
  ensure_buildkit
  if ! have_image "$DOCKERFILE_FRONTEND_IMAGE"; then
    local ctx="$STATE_DIR/dockerfile-frontend-context"
    rm -rf "$ctx" && mkdir -p "$ctx"
    cp "$STATE_DIR/buildkit-$BUILDKIT_VERSION/bin/dockerfile-frontend" "$ctx/"
    docker buildx build -q --load -t "$DOCKERFILE_FRONTEND_IMAGE" \
      -f tests/e2e/images/dockerfile-frontend.Dockerfile "$ctx" >/dev/null
  fi
}

# qemu for a second architecture: Debian's qemu-user-static, registered
# with binfmt_misc here (no systemd to do it). Its F flag opens the
# emulator now, so builders in containers can use it.
ensure_qemu() {
  local entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  # Usable in containers only when enabled and registered with F.
  if [ -e "$entry" ] && grep -qx enabled "$entry" && grep -q '^flags:.*F' "$entry"; then
    return
  fi
  if [ ! -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
    log "installing Debian's qemu-user-static"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null
  fi
  [ -e /proc/sys/fs/binfmt_misc/register ] || as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e "$entry" ] && as_root sh -c "echo -1 > $entry"
  as_root sh -c 'cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register'
}

# An arm64 test base, the CPU base's twin (about 4 minutes under qemu; kept
# in the image store afterwards).
ensure_arm64_image() {
  ensure_qemu
  have_image envd-test/cpu-arm64:latest && return
  command -v debootstrap >/dev/null 2>&1 || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  local rootfs="$STATE_DIR/rootfs-arm64"
  as_root rm -rf "$rootfs"
  log "debootstrap of the arm64 test base under qemu (about 4 minutes)"
  as_root debootstrap --arch=arm64 --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates \
    bookworm "$rootfs" "$(debian_mirror)" >"$STATE_DIR/debootstrap-arm64.log" 2>&1 \
    || { tail -20 "$STATE_DIR/debootstrap-arm64.log" >&2; exit 1; }
  docker_clean_hook | as_root tee "$rootfs/etc/apt/apt.conf.d/docker-clean" >/dev/null
  as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  as_root tar -C "$rootfs" -c . | docker import --platform linux/arm64 -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' -c 'CMD ["bash"]' - envd-test/cpu-arm64:latest >/dev/null
  as_root rm -rf "$rootfs"
}

# The `envd build` drop-in, where the end-to-end suite finds it.
ensure_envd_cli() {
  cargo build -q -p envd-frontend --bin envd
  mkdir -p "$STATE_DIR/bin"
  cp target/debug/envd "$STATE_DIR/bin/envd"
}

# Real conda for the conda test images and a local channel for it (conda is
# on no registry here). conda's wheel is built from its source release, and
# the wheels of its dependencies, for the images' Python (Debian bookworm's
# 3.11), are fetched on the host: HTTPS to the package index fails inside
# containers. The images are made FROM the CPU and GPU bases.
CONDA_VERSION=26.7.1
CONDA_LABEL=io.github.aiges.envd-frontend.conda
# conda's dependencies as resolved with conda 26.7.1 (../shared/vendor/README.md),
# with requests' and ruamel.yaml's own; pycosat is Debian's python3-pycosat.
CONDA_REQUIREMENTS=(
  archspec==0.2.7 backports.zstd==1.8.0 boltons==26.2.0 charset-normalizer==3.5.3
  conda-package-handling==2.6.0 conda-package-streaming==0.13.0 distro==1.9.0
  frozendict==2.5.1 msgpack==1.2.4 packaging==26.4 platformdirs==4.14.9 pluggy==1.7.0
  requests==2.34.2 ruamel.yaml==0.18.17 ruamel.yaml.clib==0.2.15 tqdm==4.70.1
  truststore==0.10.5 certifi==2026.10.19.post1 idna==3.21 urllib3==2.8.0
)
# Only for indexing the channel on the host (conda-index imports conda).
CONDA_INDEX_REQUIREMENTS=(conda-index==0.13.0 jinja2==3.1.6 markupsafe==3.0.4)

ensure_conda() {
  local dir="$STATE_DIR/conda"
  mkdir -p "$dir"
  ensure_conda_wheels "$dir/wheels"
  ensure_conda_host_venv "$dir/host-venv" "$dir/wheels"
  ensure_conda_channel "$dir/channel" "$dir/host-venv"
  ensure_conda_image envd-test/cpu:latest envd-test/conda:latest "$dir/wheels"
  # FROM the GPU base, so it shares that base's layers (and the CPU base's).
  ensure_conda_image envd-test/gpu:latest envd-test/gpu-conda:latest "$dir/wheels"
}

# conda's wheel and its dependencies', with a requirements.txt: the image
# build's context. Refetched when the version or the pins change.
ensure_conda_wheels() {
  local wheels=$1 stamp
  stamp="$CONDA_VERSION ${CONDA_REQUIREMENTS[*]}"
  [ "$(cat "$wheels/.complete" 2>/dev/null)" = "$stamp" ] && return
  local archive="${ENVD_CONDA_SOURCE:-$ROOT/../shared/vendor/conda-$CONDA_VERSION.tar.gz}"
  [ -f "$archive" ] || { log "no conda $CONDA_VERSION source at $archive: set ENVD_CONDA_SOURCE to conda/conda's tag $CONDA_VERSION source as a .tar.gz"; exit 1; }
  log "fetching conda's dependencies and building conda $CONDA_VERSION's wheel into $wheels"
  rm -rf "$wheels" && mkdir -p "$wheels"
  python3 -m pip download -q --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 -d "$wheels" "${CONDA_REQUIREMENTS[@]}"
  # Its version comes from git tags, which a source archive lacks.
  SETUPTOOLS_SCM_PRETEND_VERSION=$CONDA_VERSION python3 -m pip wheel -q --no-deps -w "$wheels" "$archive"
  [ -f "$wheels/conda-$CONDA_VERSION-py3-none-any.whl" ] || { log "pip built no conda-$CONDA_VERSION wheel from $archive"; exit 1; }
  printf '%s\n' "${CONDA_REQUIREMENTS[@]}" > "$wheels/requirements.txt"
  echo "$stamp" > "$wheels/.complete"
}

# A host venv with conda, conda-index and conda-package-handling, to pack and
# index the channel (with the host's own Python; no pycosat: indexing does
# not solve).
ensure_conda_host_venv() {
  local venv=$1 wheels=$2 stamp
  stamp="$CONDA_VERSION ${CONDA_REQUIREMENTS[*]} ${CONDA_INDEX_REQUIREMENTS[*]}"
  [ "$(cat "$venv/.complete" 2>/dev/null)" = "$stamp" ] && return
  log "making a host venv with conda and conda-index in $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --find-links "$wheels" "${CONDA_REQUIREMENTS[@]}" "${CONDA_INDEX_REQUIREMENTS[@]}"
  "$venv/bin/python" -m pip install -q --no-deps "$wheels/conda-$CONDA_VERSION-py3-none-any.whl"
  echo "$stamp" > "$venv/.complete"
}

# The local channel tests/e2e/conda/serve.py serves; rebuilt when
# make_channel.py (which holds the package definitions) changes.
ensure_conda_channel() {
  local channel=$1 venv=$2 stamp
  stamp="$(sha256sum tests/e2e/conda/make_channel.py | cut -d' ' -f1) ${CONDA_INDEX_REQUIREMENTS[*]}"
  [ -d "$channel/noarch" ] && [ "$(cat "$channel.built" 2>/dev/null)" = "$stamp" ] && return
  log "building the local conda channel into $channel"
  "$venv/bin/python" tests/e2e/conda/make_channel.py "$channel"
  echo "$stamp" > "$channel.built"
}

# Replaces an image of that name without this conda (such as the former
# stand-in), or made from an older base, Dockerfile or set of wheels.
ensure_conda_image() {
  local base=$1 tag=$2 wheels=$3 recipe
  recipe=$( { docker image inspect -f '{{.Id}}' "$base"; cat tests/e2e/images/conda.Dockerfile "$wheels/requirements.txt"; } | sha256sum | cut -d' ' -f1)
  if [ "$(docker image inspect -f "{{ index .Config.Labels \"$CONDA_LABEL\" }} {{ index .Config.Labels \"$CONDA_LABEL.recipe\" }}" "$tag" 2>/dev/null)" = "$CONDA_VERSION $recipe" ]; then
    return
  fi
  log "building $tag: conda $CONDA_VERSION on $base"
  # --network=host: apt in the build reaches the Debian mirror for pycosat.
  docker buildx build -q --load --network=host -t "$tag" \
    --build-arg BASE="$base" --build-arg CONDA_VERSION="$CONDA_VERSION" --build-arg RECIPE="$recipe" \
    -f tests/e2e/images/conda.Dockerfile "$wheels" >/dev/null
}

# Podman from Debian trixie, for the exported Dockerfile's tests (it runs
# rootful beside dockerd; images come over with docker save). Where it
# cannot be installed, those tests skip, saying why.
ensure_podman() {
  command -v podman >/dev/null 2>&1 && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    log "podman is missing and apt-get is missing: the exported Dockerfile's podman tests will skip"
    return 0
  fi
  log "installing Podman from Debian trixie"
  if ! { ensure_trixie_source && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie podman >/dev/null; }; then
    log "could not install Podman: the exported Dockerfile's podman tests will skip"
  fi
}

case "${1:-all}" in
  docker) ensure_docker ;;
  images) ensure_docker; ensure_images ;;
  conda) ensure_docker; ensure_images; ensure_conda ;;
  wheels) ensure_wheels; ensure_uv_wheel ;;
  frontend) ensure_docker; ensure_frontend ;;
  envd) ensure_envd_cli ;;
  registry) ensure_registry ;;
  docker20) ensure_docker20 ;;
  buildkit) ensure_docker; ensure_images; ensure_buildkit ;;
  dockerfile-frontend) ensure_docker; ensure_images; ensure_dockerfile_frontend ;;
  qemu) ensure_qemu ;;
  arm64) ensure_docker; ensure_arm64_image ;;
  podman) ensure_podman ;;
  all) ensure_docker; ensure_git; ensure_registry; ensure_docker20; ensure_images; ensure_wheels; ensure_uv_wheel; ensure_conda; ensure_frontend
       ensure_envd_cli; ensure_buildkit; ensure_arm64_image; ensure_podman ;;
  *) echo "usage: $0 [docker|images|conda|wheels|frontend|envd|registry|docker20|buildkit|qemu|arm64|podman|dockerfile-frontend|all]" >&2; exit 2 ;;
esac
