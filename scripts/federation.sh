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

log() { echo "federation.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 2; }

PACKAGES=(@apollo/composition graphql)
NAME=federation
# shellcheck source=scripts/lib/npm_cache.sh
. "$REPO/scripts/lib/npm_cache.sh"

compose() {
  local dir
  npm_install
  dir="$(install_dir)"
  NODE_PATH="$dir/node_modules" exec node "$SRC/compose.mjs" "$@"
}

case "${1:-}" in
  install) npm_install ;;
  compose) shift; compose "$@" ;;
  dir) install_dir ;;
  *) echo "usage: scripts/federation.sh install|compose|dir [FILE...]" >&2; exit 2 ;;
esac
