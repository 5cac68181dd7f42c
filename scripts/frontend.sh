#!/usr/bin/env bash
# Installs (cached) the frontend clients' npm packages and runs their checks against a gateway.
#
# Usage: scripts/frontend.sh install|audit|paging|apq|dir [ARGS...]
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
#   apq URL TOKEN
#             install if needed, then run a query twice through Apollo Client's
#             PersistedQueryLink (automatic persisted queries), by POST and with GET for hashed
#             queries, and print what was sent and answered (tests/frontend/apq.mjs).
#   dir       print the install dir (it may not exist yet).
# By hand, against `make dev`: `scripts/frontend.sh audit http://127.0.0.1:8000/graphql`.
# Environment: CONSILIUM_CACHE (default ~/.cache/consilium). Needs Node 18+ and npm.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$REPO/tests/frontend"
log() { echo "frontend.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 2; }

PACKAGES=(graphql-http @apollo/client relay-runtime graphql)
NAME=frontend
# shellcheck source=scripts/lib/npm_cache.sh
. "$REPO/scripts/lib/npm_cache.sh"

run() {
  local script="$1" dir
  shift
  npm_install
  dir="$(install_dir)"
  NODE_PATH="$dir/node_modules" exec node "$SRC/$script" "$@"
}

case "${1:-}" in
  install) npm_install ;;
  audit) shift; run audit.mjs "$@" ;;
  paging) shift; run paging.mjs "$@" ;;
  apq) shift; run apq.mjs "$@" ;;
  dir) install_dir ;;
  *) echo "usage: scripts/frontend.sh install|audit|paging|apq|dir [ARGS...]" >&2; exit 2 ;;
esac
