#!/usr/bin/env bash
# Installs (cached) the frontend clients' npm packages and runs their checks against a gateway.
#
# Usage: scripts/frontend.sh install|audit|paging|dir [ARGS...]
#   install   `npm ci` the locked packages of tests/frontend/ once into
#             $CONSILIUM_CACHE/npm-frontend-<hash of package-lock.json>/ (outside the checkout);
#             a no-op when that dir is already complete. Installs into a temp dir and renames it,
#             so concurrent runs never see (or leave) a half-installed tree.
#   audit URL
#             install if needed, then graphql-http's GraphQL-over-HTTP audit of the server at
#             URL (tests/frontend/audit.mjs): JSON {ok, failed}, exit 1 on any warning or error.
#   paging URL TOKEN
#             install if needed, then page the feed at URL as TOKEN's bearer with Apollo Client's
#             relayStylePagination and Relay's ConnectionHandler (tests/frontend/paging.mjs).
#   dir       print the install dir (it may not exist yet).
# By hand, against `make dev`: `scripts/frontend.sh audit http://127.0.0.1:8000/graphql`.
# Environment: CONSILIUM_CACHE (default ~/.cache/consilium). Needs Node 18+ and npm.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$REPO/tests/frontend"
CACHE="${CONSILIUM_CACHE:-$HOME/.cache/consilium}"
NODE_MAJOR_MIN=18

log() { echo "frontend.sh: $*" >&2; }
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
  echo "$CACHE/npm-frontend-$hash"
}

# Complete means the rename happened and the packages are still there.
installed() {
  local pkg
  for pkg in graphql-http @apollo/client relay-runtime graphql; do
    [[ -f "$1/node_modules/$pkg/package.json" ]] || return 1
  done
}

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
  log "installing the frontend clients into $dir"
  (cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error --prefix "$tmp" </dev/null >&2) \
    || die "npm ci failed in $tmp (is the npm registry reachable?)"
  # Another run may have finished first; its tree is as good as ours.
  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
  trap - EXIT
  installed "$dir" || die "the install in $dir is incomplete"
}

run() {
  local script="$1" dir
  shift
  install
  dir="$(install_dir)"
  NODE_PATH="$dir/node_modules" exec node "$SRC/$script" "$@"
}

case "${1:-}" in
  install) install ;;
  audit) shift; run audit.mjs "$@" ;;
  paging) shift; run paging.mjs "$@" ;;
  dir) install_dir ;;
  *) echo "usage: scripts/frontend.sh install|audit|paging|dir [ARGS...]" >&2; exit 2 ;;
esac
