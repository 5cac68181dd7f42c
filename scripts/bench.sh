#!/usr/bin/env bash
# Runs the benchmark (tests/perf, `python -m perf`); `make bench` calls it.
#
# Usage: scripts/bench.sh [--smoke] [--backend dev|real]   (BACKEND=real in the environment works too)
# dev (default): SQLite and the embedded bus, nothing to start.
# real: PostgreSQL and Kafka, started like scripts/test.sh does (scripts/postgres.sh,
# scripts/kafka.sh) in a private run dir unless CONSILIUM_RUN_DIR names one where they already
# run (then they are reused and left running); servers started here are stopped on exit.
# Prints a table and one `BENCH {json}` line per figure on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

backend="${BACKEND:-dev}"
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --backend) backend="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

bash scripts/bootstrap.sh >/dev/null

started=()
private_run_dir=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  local i
  for ((i = ${#started[@]} - 1; i >= 0; i--)); do
    scripts/"${started[i]}".sh stop >/dev/null
  done
  [[ -n "$private_run_dir" ]] && rm -rf "$private_run_dir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ "$backend" == real ]]; then
  if [[ -z "${CONSILIUM_RUN_DIR:-}" ]]; then
    private_run_dir="$(mktemp -d "/tmp/consilium-bench-run-$UID.XXXXXX")"
    chmod 755 "$private_run_dir"  # the postgres system user must reach its data dir
    export CONSILIUM_RUN_DIR="$private_run_dir"
  fi
  for server in postgres kafka; do
    if ! scripts/$server.sh status >/dev/null 2>&1; then
      started+=("$server")
    fi
    scripts/$server.sh start >&2
  done
  set -a
  # shellcheck source=/dev/null
  . "$CONSILIUM_RUN_DIR/postgres.env"
  # shellcheck source=/dev/null
  . "$CONSILIUM_RUN_DIR/kafka.env"
  set +a
elif [[ "$backend" != dev ]]; then
  echo "BACKEND must be dev or real, not $backend" >&2
  exit 2
fi

PYTHONPATH=tests .venv/bin/python -m perf --backend "$backend" "${args[@]}"
