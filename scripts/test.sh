#!/usr/bin/env bash
# Runs the whole test suite (import contracts, then pytest) against a real PostgreSQL and Kafka; `make test` calls it.
#
# Usage: scripts/test.sh [pytest args...]   e.g. scripts/test.sh tests/integration -x
# Starts PostgreSQL and Kafka (scripts/postgres.sh, scripts/kafka.sh), exports their env files,
# runs the lint (ruff, mypy, import-linter) and .venv/bin/pytest, stops both on exit (even on failure or ^C)
# and exits with pytest's status (or the lint's when pytest passed but a lint check failed).
# Unless CONSILIUM_RUN_DIR is set, each run gets its own run dir (/tmp/consilium-test-run-$UID.XXXXXX),
# so parallel runs on one machine don't share or stop each other's servers; it is removed after
# a passing run and kept (with the server logs) after a failing one. With CONSILIUM_RUN_DIR set,
# servers that already run there are reused and left running.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=()
private_run_dir=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  local i
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    case "${started[i]}" in
      kafka) echo "==> stopping Kafka"; scripts/kafka.sh stop ;;
      postgres) echo "==> stopping PostgreSQL"; scripts/postgres.sh stop ;;
    esac
  done
  if [[ -n "$private_run_dir" ]]; then
    if [[ "$rc" == 0 ]]; then
      rm -rf "$private_run_dir"
    else
      echo "==> server logs kept in $private_run_dir"
    fi
  fi
  echo "==> scripts/test.sh exits with $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "==> bootstrapping the virtual env"
bash scripts/bootstrap.sh

# kcat (Debian) is the independent Kafka client the event tests read every topic with.
if ! command -v kcat >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 ]]; then
    echo "==> installing kcat (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq kcat >/dev/null
  else
    echo "==> kcat is missing and this is not root: install the Debian package kcat" >&2
    exit 1
  fi
fi

if [[ -z "${CONSILIUM_RUN_DIR:-}" ]]; then
  private_run_dir="$(mktemp -d "/tmp/consilium-test-run-$UID.XXXXXX")"
  chmod 755 "$private_run_dir"  # the postgres system user must reach its data dir
  export CONSILIUM_RUN_DIR="$private_run_dir"
fi
echo "==> run dir: $CONSILIUM_RUN_DIR"

if scripts/postgres.sh status >/dev/null 2>&1; then
  echo "==> PostgreSQL already runs in $CONSILIUM_RUN_DIR: reusing it"
  scripts/postgres.sh start
else
  echo "==> starting PostgreSQL"
  started+=(postgres)
  scripts/postgres.sh start
fi

if scripts/kafka.sh status >/dev/null 2>&1; then
  echo "==> Kafka already runs in $CONSILIUM_RUN_DIR: reusing it"
  scripts/kafka.sh start
else
  echo "==> starting Kafka"
  started+=(kafka)
  scripts/kafka.sh start
fi

set -a
# shellcheck source=/dev/null
. "$CONSILIUM_RUN_DIR/postgres.env"
# shellcheck source=/dev/null
. "$CONSILIUM_RUN_DIR/kafka.env"
set +a

lint_rc=0
for check in "ruff check ." "ruff format --check ." "mypy" "lint-imports"; do
  echo "==> lint: $check"
  # shellcheck disable=SC2086
  .venv/bin/$check </dev/null || {
    lint_rc=$?
    echo "==> lint: $check FAILED ($lint_rc); running pytest anyway, the run will fail"
  }
done

echo "==> running pytest $*"
rc=0
.venv/bin/pytest "$@" </dev/null || rc=$?
if [[ "$rc" == 0 && "$lint_rc" != 0 ]]; then
  rc="$lint_rc"
fi
exit "$rc"
