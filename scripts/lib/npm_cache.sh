# Sourced, not run: one locked npm package set installed once into the cache, outside the checkout.
#
# The sourcing script sets SRC (the folder with package.json + package-lock.json), NAME (the
# cache dir is $CONSILIUM_CACHE/npm-$NAME-<hash of package-lock.json>), PACKAGES (an array of
# packages whose presence marks a complete install) and defines log and die. `npm_install`
# installs into a temp dir and renames it, so concurrent runs never see (or leave) a
# half-installed tree; it is a no-op when the dir is already complete. Needs Node 18+ and npm
# (installed with apt-get when missing and root).

CACHE="${CONSILIUM_CACHE:-$HOME/.cache/consilium}"
NODE_MAJOR_MIN=18

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
  echo "$CACHE/npm-$NAME-$hash"
}

# Complete means the rename happened and the packages are still there.
installed() {
  local pkg
  for pkg in "${PACKAGES[@]}"; do
    [[ -f "$1/node_modules/$pkg/package.json" ]] || return 1
  done
}

npm_install() {
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
  log "installing ${PACKAGES[*]} into $dir"
  (cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error --prefix "$tmp" </dev/null >&2) \
    || die "npm ci failed in $tmp (is the npm registry reachable?)"
  # Another run may have finished first; its tree is as good as ours.
  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
  trap - EXIT
  installed "$dir" || die "the install in $dir is incomplete"
}
