#!/usr/bin/env bash
# Installs (cached) Apollo's composition library and composes the gateway's subgraph SDL with it.
#
# Usage: scripts/federation.sh install|compose|dir [FILE...]
#   install   `npm ci` the locked packages of tests/contract/federation/ once into
#             $CONSILIUM_CACHE/npm-federation-<hash of package-lock.json>/ (outside the checkout);
#             a no-op when that dir is already complete. Installs into a temp dir and renames it,
#             so concurrent runs never see (or leave) a half-installed tree.
#   compose   install if needed, then run compose.mjs: SDL on stdin is the subgraph "consilium",
#             each FILE another subgraph named after it. Prints JSON {errors, hints,
#             supergraphSdl?} and exits 1 when composition reports errors.
#   dir       print the install dir (it may not exist yet).
# By hand: `curl -s localhost:8000/graphql -H 'content-type: application/json'
#   -d '{"query":"{ _service { sdl } }"}' | jq -r .data._service.sdl | scripts/federation.sh compose`
# Environment: CONSILIUM_CACHE (default ~/.cache/consilium). Needs Node 18+ and npm.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$REPO/tests/contract/federation"
CACHE="${CONSILIUM_CACHE:-$HOME/.cache/consilium}"
NODE_MAJOR_MIN=18

log() { echo "federation.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 2; }

ensure_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    [[ "$(id -u)" == 0 ]] || die "node $NODE_MAJOR_MIN+ and npm are needed (apt-get install nodejs npm)"
    log "installing Node.js and npm with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq nodejs npm >/dev/null
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  ((major >= NODE_MAJOR_MIN)) || die "node $NODE_MAJOR_MIN+ is needed, found $(node --version)"
}

install_dir() {
  local hash
  hash="$(sha256sum "$SRC/package-lock.json" | cut -c1-16)"
  echo "$CACHE/npm-federation-$hash"
}

# Complete means the rename happened and the packages are still there.
installed() { [[ -f "$1/node_modules/@apollo/composition/package.json" && -f "$1/node_modules/graphql/package.json" ]]; }

install() {
  local dir tmp
  dir="$(install_dir)"
  if installed "$dir"; then
    return 0
  fi
  ensure_node
  mkdir -p "$CACHE"
  if installed "$dir"; then
    return 0  # a concurrent run finished while we checked node
  elif [[ -e "$dir" ]]; then
    log "removing the incomplete install in $dir"
    rm -rf "$dir"
  fi
  tmp="$(mktemp -d "$dir.tmp.XXXXXX")"
  # shellcheck disable=SC2064  # expand $tmp now: it is local
  trap "rm -rf '$tmp'" EXIT
  cp "$SRC/package.json" "$SRC/package-lock.json" "$tmp/"
  log "installing @apollo/composition into $dir"
  (cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error --prefix "$tmp" </dev/null >&2) \
    || die "npm ci failed in $tmp (is the npm registry reachable?)"
  # Another run may have finished first; its tree is as good as ours.
  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
  trap - EXIT
  installed "$dir" || die "the install in $dir is incomplete"
}

compose() {
  local dir
  install
  dir="$(install_dir)"
  NODE_PATH="$dir/node_modules" exec node "$SRC/compose.mjs" "$@"
}

case "${1:-}" in
  install) install ;;
  compose) shift; compose "$@" ;;
  dir) install_dir ;;
  *) echo "usage: scripts/federation.sh install|compose|dir [FILE...]" >&2; exit 2 ;;
esac
