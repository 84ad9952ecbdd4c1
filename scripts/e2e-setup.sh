#!/usr/bin/env bash
# Idempotent set-up for the end-to-end suite and the quick start, for CI and
# developers alike: a Docker engine with buildx (installed only where none
# runs and apt is the package manager), the test base images (made from
# Debian packages: no registry is needed), and the frontend image.
#
# Usage: scripts/e2e-setup.sh [docker|images|wheels|frontend|envd|registry|docker20|buildkit|qemu|arm64|all]   (default: all)
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
    (cd / && as_root setsid dockerd >/tmp/dockerd.log 2>&1 < /dev/null &)
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { log "dockerd did not start; see /tmp/dockerd.log"; tail -20 /tmp/dockerd.log >&2; exit 1; }
  fi
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
  if ! have_image envd-test/conda:latest; then
    docker buildx build -q --load -t envd-test/conda:latest -f tests/e2e/images/conda.Dockerfile tests/e2e/images >/dev/null
  fi
  if ! have_image envd-test/gpu-conda:latest; then
    docker buildx build -q --load -t envd-test/gpu-conda:latest -f tests/e2e/images/gpu-conda.Dockerfile tests/e2e/images >/dev/null
  fi
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
ensure_buildkit() {
  local dir="$STATE_DIR/buildkit-$BUILDKIT_VERSION"
  if [ "$(cat "$dir/bin/.built" 2>/dev/null)" != "$BUILDKIT_COMMIT" ]; then
    local archive="${ENVD_BUILDKIT_SOURCE:-$ROOT/../shared/vendor/buildkit-$BUILDKIT_VERSION.tar.gz}"
    [ -f "$archive" ] || { log "no BuildKit $BUILDKIT_VERSION source at $archive: set ENVD_BUILDKIT_SOURCE to moby/buildkit's v$BUILDKIT_VERSION tree with its vendor/ folder, as a .tar.gz"; exit 1; }
    local go=/usr/lib/go-1.24/bin/go
    if [ ! -x "$go" ]; then
      log "installing Debian's Go 1.24 (trixie) to build BuildKit"
      ensure_trixie_source
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie golang-1.24-go >/dev/null
    fi
    log "building buildkitd and buildctl $BUILDKIT_VERSION from source (a few minutes)"
    rm -rf "$dir" && mkdir -p "$dir/src" "$dir/bin"
    tar -C "$dir/src" --strip-components=1 -xzf "$archive"
    local target version=github.com/moby/buildkit/version
    for target in buildkitd buildctl; do
      (cd "$dir/src" && GOFLAGS=-mod=vendor CGO_ENABLED=0 GOTOOLCHAIN=local GOCACHE="$STATE_DIR/go-cache" \
        "$go" build -trimpath -tags "netgo static_build osusergo" \
          -ldflags "-X $version.Version=v$BUILDKIT_VERSION -X $version.Revision=$BUILDKIT_COMMIT -X $version.Package=github.com/moby/buildkit" \
          -o "$dir/bin/$target.tmp" "./cmd/$target")
      mv "$dir/bin/$target.tmp" "$dir/bin/$target"
    done
    rm -rf "$dir/src"
    echo "$BUILDKIT_COMMIT" > "$dir/bin/.built"
    docker image rm -f "$BUILDKIT_IMAGE" >/dev/null 2>&1 || true
  fi
  if ! have_image "$BUILDKIT_IMAGE"; then
    local ctx="$STATE_DIR/buildkit-context"
    rm -rf "$ctx" && mkdir -p "$ctx"
    cp "$dir/bin/buildkitd" "$dir/bin/buildctl" "$ctx/"
    # --network=host: apt in the image reaches the Debian mirror for runc.
    docker buildx build -q --load --network=host -t "$BUILDKIT_IMAGE" -f tests/e2e/images/buildkit.Dockerfile "$ctx" >/dev/null
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

case "${1:-all}" in
  docker) ensure_docker ;;
  images) ensure_docker; ensure_images ;;
  wheels) ensure_wheels ;;
  frontend) ensure_docker; ensure_frontend ;;
  envd) ensure_envd_cli ;;
  registry) ensure_registry ;;
  docker20) ensure_docker20 ;;
  buildkit) ensure_docker; ensure_images; ensure_buildkit ;;
  qemu) ensure_qemu ;;
  arm64) ensure_docker; ensure_arm64_image ;;
  all) ensure_docker; ensure_git; ensure_registry; ensure_docker20; ensure_images; ensure_wheels; ensure_frontend; ensure_envd_cli
       ensure_buildkit; ensure_arm64_image ;;
  *) echo "usage: $0 [docker|images|wheels|frontend|envd|registry|docker20|buildkit|qemu|arm64|all]" >&2; exit 2 ;;
esac
