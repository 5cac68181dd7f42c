#!/usr/bin/env bash
# Makes sure uv and the project's virtual env (.venv, from uv.lock) exist; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CONSILIUM_CACHE:-$HOME/.cache/consilium}"
UV_VERSION=0.13.8
UV="$CACHE/uv-venv/bin/uv"
export UV_PYTHON_DOWNLOADS=never UV_CACHE_DIR="$CACHE/uv-cache"
if ! "$UV" --version 2>/dev/null | grep -q "$UV_VERSION"; then
  echo "==> installing uv $UV_VERSION into $CACHE/uv-venv"
  mkdir -p "$CACHE"
  python3.11 -m venv "$CACHE/uv-venv"
  "$CACHE/uv-venv/bin/pip" install --quiet "uv==$UV_VERSION"
fi
echo "==> syncing .venv from uv.lock"
"$UV" sync --frozen --python python3.11 --quiet
