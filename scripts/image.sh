#!/usr/bin/env bash
# Builds the one Consilium image with buildah (no Docker engine needed) and prints its size.
#
#   bash scripts/image.sh               install buildah/podman/debootstrap if missing (root),
#                                       make the base, stage wheels, build, print the size
#   bash scripts/image.sh --stage-only  only stage dist/image/ (for docker build elsewhere)
#
# The base is a debootstrap'ed bookworm minbase with python3.11 + python3.11-venv, cached as a
# tarball under ~/.cache/consilium/image/ (outside the checkout) and imported once into the
# local image store; the locked dependencies are wheels downloaded once into the same cache.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CONSILIUM_CACHE:-$HOME/.cache/consilium}"
IMAGE_CACHE="$CACHE/image"
IMAGE="${CONSILIUM_IMAGE:-localhost/consilium:dev}"
BASE_VERSION=1  # bump when the base's package list changes
BASE_IMAGE="localhost/consilium-base:bookworm-py311-v$BASE_VERSION"
BASE_TAR="$IMAGE_CACHE/bookworm-minbase-py311-v$BASE_VERSION.tar"
# debootstrap does not resolve virtual packages: python3.11-venv needs python3.11-distutils,
# which python3-distutils provides.
BASE_PACKAGES=python3.11,python3.11-venv,python3-distutils,ca-certificates
STAGE=dist/image
UV="$CACHE/uv-venv/bin/uv"
export UV_PYTHON_DOWNLOADS=never UV_CACHE_DIR="$CACHE/uv-cache"

log() { echo "==> $*" >&2; }

# Debian's mirror, the one apt already uses (CI machines start with nothing but apt).
debian_mirror() {
  local uri
  uri=$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list \
    /etc/apt/sources.list.d/ 2>/dev/null | grep -oE 'https?://[^ ]+' | head -1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

ensure_tools() {
  local missing=()
  command -v buildah >/dev/null || missing+=(buildah)
  command -v podman >/dev/null || missing+=(podman)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  ((${#missing[@]} == 0)) && return
  if [[ $(id -u) -ne 0 ]]; then
    echo "need ${missing[*]}: run as root once (apt-get) or install them" >&2
    exit 1
  fi
  log "installing ${missing[*]} (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    buildah podman debootstrap uidmap >/dev/null
}

# The base root filesystem: minbase + the full python3.11 (the -minimal package lacks asyncio and
# sqlite3) and its venv module; apt lists and .deb files removed.
ensure_base() {
  if buildah inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
    return
  fi
  if [[ ! -s "$BASE_TAR" ]]; then
    local root
    mkdir -p "$IMAGE_CACHE"
    root=$(mktemp -d "$IMAGE_CACHE/rootfs.XXXXXX")
    log "debootstrap bookworm minbase (+ $BASE_PACKAGES) into $root (about 30 s, once)"
    debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$root" "$(debian_mirror)" \
      >"$IMAGE_CACHE/debootstrap.log" 2>&1 \
      || { tail -20 "$IMAGE_CACHE/debootstrap.log" >&2; rm -rf "$root"; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/tmp/*
    tar --numeric-owner -C "$root" -cf "$BASE_TAR.part" .
    mv "$BASE_TAR.part" "$BASE_TAR"
    rm -rf "$root"
  fi
  log "importing $BASE_TAR as $BASE_IMAGE"
  podman import --quiet "$BASE_TAR" "$BASE_IMAGE" >/dev/null
}

# dist/image/: the project's wheel, requirements.txt from uv.lock (hashes, no dev group) and a
# wheel for each locked package (downloaded once into the cache; pip checks every hash).
stage() {
  [[ -x "$UV" ]] || bash scripts/bootstrap.sh
  rm -rf "$STAGE"
  mkdir -p "$STAGE/wheels" "$IMAGE_CACHE/wheels"
  "$UV" export --frozen --no-dev --no-emit-project --no-header --format requirements-txt \
    --output-file "$STAGE/requirements.txt" --quiet
  # pip asks the index again even when every wheel is there; a stamp of the exported lock
  # skips that on a warm machine (pip still checks every hash when the image installs them).
  local stamp="$IMAGE_CACHE/wheels/.requirements.sha256" digest
  digest=$(sha256sum "$STAGE/requirements.txt" | cut -d' ' -f1)
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]]; then
    log "fetching locked wheels into $IMAGE_CACHE/wheels"
    "$CACHE/uv-venv/bin/pip" download --quiet --disable-pip-version-check --only-binary=:all: \
      --require-hashes --python-version 3.11 --platform manylinux2014_x86_64 \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
      --platform linux_x86_64 --implementation cp --dest "$IMAGE_CACHE/wheels" \
      -r "$STAGE/requirements.txt"
    echo "$digest" >"$stamp"
  fi
  cp -l "$IMAGE_CACHE"/wheels/*.whl "$STAGE/wheels/" 2>/dev/null \
    || cp "$IMAGE_CACHE"/wheels/*.whl "$STAGE/wheels/"
  log "building the project's wheel"
  "$UV" build --wheel --quiet --out-dir "$STAGE" >/dev/null 2>&1
}

build() {
  local version
  version=$(git describe --always --dirty 2>/dev/null || echo dev)
  log "building $IMAGE ($version) with buildah --isolation chroot"
  buildah bud --isolation chroot --layers --quiet \
    --ignorefile deploy/image/Containerfile.dockerignore \
    --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg VERSION="$version" \
    -f deploy/image/Containerfile -t "$IMAGE" . >/dev/null
  local size
  size=$(buildah images --format '{{.Size}}' "$IMAGE" | head -1)
  echo "$IMAGE: $size"
}

if [[ "${1:-}" == "--stage-only" ]]; then
  stage
  exit 0
fi
ensure_tools
ensure_base
stage
build
