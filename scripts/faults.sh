#!/usr/bin/env bash
# Runs the fault matrix (tests/faults, `python -m faults`); `make faults` calls it.
#
# Usage: scripts/faults.sh [--rows 'kill content,pause postgresql'] [--down SECONDS]
# Starts a private PostgreSQL (synchronous_commit on, as in production) and Kafka in a run dir
# of its own (never the servers of `make test` or of anyone else: rows kill them), runs every
# component as its own process over real gRPC on loopback, and for each row (kill -9 + restart,
# SIGSTOP/SIGCONT of PostgreSQL, Kafka and each component) prints the requests sent and failed,
# the time to recover, and what was lost, applied twice or left behind. Exits non-zero on any
# loss, duplicate, stuck outbox row, consumer lag or dead letter. Bounded: 10 minutes measured on
# 2 cores shared with other work, 20 at most (a timeout); every load loop stops at a request
# count or a deadline.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh >/dev/null

run_dir="$(mktemp -d "/tmp/consilium-faults-run-$UID.XXXXXX")"
chmod 755 "$run_dir"  # the postgres system user must reach its data dir
export CONSILIUM_RUN_DIR="$run_dir"
rc=0
cleanup() {
  rc=$?
  trap - EXIT INT TERM
  set +e
  scripts/kafka.sh stop >/dev/null 2>&1
  scripts/postgres.sh stop >/dev/null 2>&1
  if [[ "$rc" == 0 ]]; then
    rm -rf "$run_dir"
  else
    echo "==> server logs kept in $run_dir" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SECONDS=0
echo "==> starting a private PostgreSQL and Kafka in $run_dir" >&2
CONSILIUM_PG_SYNCHRONOUS_COMMIT=on scripts/postgres.sh start >/dev/null
scripts/kafka.sh start >/dev/null
set -a
# shellcheck source=/dev/null
. "$run_dir/postgres.env"
# shellcheck source=/dev/null
. "$run_dir/kafka.env"
set +a
echo "==> servers up in ${SECONDS}s; running the matrix" >&2
status=0
PYTHONPATH=tests timeout 1200 .venv/bin/python -m faults "$@" || status=$?
echo "==> make faults took ${SECONDS}s" >&2
exit "$status"
