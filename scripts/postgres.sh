#!/usr/bin/env bash
# Installs (if missing), starts, checks and stops a private PostgreSQL server on 127.0.0.1 for tests.
#
# Usage: scripts/postgres.sh start|stop|status
#   start   initdb a fresh cluster in $RUN_DIR/postgres/data, start it on a free 127.0.0.1 port
#           (unix socket inside the run dir), create role and database consilium, write and print
#           $RUN_DIR/postgres.env. A no-op (reprints) when it already runs and is healthy.
#   stop    pg_ctl stop -m fast; safe when nothing runs.
#   status  exit 0 and print the env line when it runs and accepts connections; exit 3 otherwise.
#   resume  start the kept cluster again (same data, same port) after it died, e.g. a `kill -9`
#           in the fault matrix (tests/faults); crash recovery runs as after a real crash.
# Runs initdb/pg_ctl as the `postgres` system user when invoked as root (initdb refuses root).
# Environment: CONSILIUM_RUN_DIR (default /tmp/consilium-test-run-$UID), CONSILIUM_PG_PORT
#   (default: a free port), CONSILIUM_PG_READY_TIMEOUT (seconds, default 60),
#   CONSILIUM_PG_SYNCHRONOUS_COMMIT (default off: fast, but a `kill -9` of the server loses the
#   last commits it acknowledged; the fault matrix sets it on, as production has it).
set -euo pipefail

RUN_DIR="${CONSILIUM_RUN_DIR:-/tmp/consilium-test-run-$UID}"
STATE="$RUN_DIR/postgres"
DATA="$STATE/data"
SOCK="$STATE/sock"
LOG="$STATE/postgres.log"
PORT_FILE="$STATE/port"
ENV_FILE="$RUN_DIR/postgres.env"
READY_TIMEOUT="${CONSILIUM_PG_READY_TIMEOUT:-60}"
SYNCHRONOUS_COMMIT="${CONSILIUM_PG_SYNCHRONOUS_COMMIT:-off}"
[[ "$SYNCHRONOUS_COMMIT" == on || "$SYNCHRONOUS_COMMIT" == off ]] ||
  { echo "postgres.sh: CONSILIUM_PG_SYNCHRONOUS_COMMIT must be on or off" >&2; exit 2; }
DB_USER=consilium
DB_PASSWORD=consilium
DB_NAME=consilium

log() { echo "postgres.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

find_bindir() {
  local ctl
  ctl="$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1 || true)"
  [[ -n "$ctl" ]] && dirname "$ctl"
}

ensure_postgres() {
  if BIN="$(find_bindir)"; then return; fi
  [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed: apt-get install postgresql (as root)"
  log "installing PostgreSQL with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
  BIN="$(find_bindir)" || die "apt-get installed postgresql but no pg_ctl was found"
}

# Run a PostgreSQL program as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

env_line() { echo "CONSILIUM_TEST_POSTGRES_URL=postgresql+asyncpg://$DB_USER:$DB_PASSWORD@127.0.0.1:$1/$DB_NAME"; }

running() {
  [[ -f "$DATA/PG_VERSION" ]] && as_owner "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

accepting() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -d postgres -t 2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {
  local port="$1" deadline=$((SECONDS + READY_TIMEOUT))
  until accepting "$port"; do
    if ((SECONDS >= deadline)); then
      log "PostgreSQL did not accept connections within ${READY_TIMEOUT}s; last lines of $LOG:"
      tail -n 40 "$LOG" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

psql_super() {
  as_owner "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$1" -U postgres -d postgres -c "$2"
}

cmd_start() {
  local port
  ensure_postgres
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/postgres.lock"
  flock -w 600 9 || die "timed out waiting for another postgres.sh in $RUN_DIR"

  if running && [[ -f "$PORT_FILE" ]]; then
    port="$(cat "$PORT_FILE")"
    if wait_ready "$port"; then
      env_line "$port" >"$ENV_FILE"
      log "already running"
      cat "$ENV_FILE"
      return
    fi
    log "a server runs but does not answer: restarting it"
    as_owner "$BIN/pg_ctl" stop -D "$DATA" -m immediate -w -t 30 >/dev/null 2>&1 || true
  elif running; then
    as_owner "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null 2>&1 || true
  fi
  rm -f "$ENV_FILE"

  port="${CONSILIUM_PG_PORT:-$(free_port)}"
  ! accepting "$port" || die "port $port is already taken"

  # Always a fresh cluster: tests get a clean server, and nothing depends on an old one.
  rm -rf "$STATE"
  mkdir -p "$DATA" "$SOCK"
  touch "$LOG"
  if [[ "$(id -u)" == 0 ]]; then
    chown -R postgres: "$STATE"
    runuser -u postgres -- test -x "$STATE" ||
      die "the postgres user cannot reach $STATE: pick a CONSILIUM_RUN_DIR it can traverse"
  fi
  chmod 700 "$DATA"
  echo "$port" >"$PORT_FILE"

  cd "$STATE"  # the owner may not be allowed into the caller's directory
  as_owner "$BIN/initdb" -D "$DATA" -U postgres -A trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 --no-sync >"$STATE/initdb.log" 2>&1 ||
    { cat "$STATE/initdb.log" >&2; die "initdb failed"; }
  cat >>"$DATA/postgresql.conf" <<EOF

# --- scripts/postgres.sh: a private, throwaway test server ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$SOCK'
max_connections = 200
# fsync off: the tests kill processes, never the machine, so the OS page cache keeps
# what was written. synchronous_commit off acknowledges a commit before its WAL leaves the
# server's memory: a killed server loses it (the fault matrix turns it on).
fsync = off
synchronous_commit = $SYNCHRONOUS_COMMIT
full_page_writes = off
# Each test drops its database WITH (FORCE), which a non-superuser cannot do while an
# autovacuum worker (a superuser process) is in it: throwaway test databases need none.
autovacuum = off
EOF
  # Only loopback TCP with a password, plus the private socket.
  cat >"$DATA/pg_hba.conf" <<'EOF'
local   all   all                  trust
host    all   all   127.0.0.1/32   scram-sha-256
EOF

  log "starting PostgreSQL $("$BIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$port, log: $LOG"
  as_owner "$BIN/pg_ctl" start -D "$DATA" -l "$LOG" -w -t "$READY_TIMEOUT" >/dev/null 9>&- ||
    { tail -n 40 "$LOG" >&2; die "pg_ctl start failed"; }
  wait_ready "$port" || { as_owner "$BIN/pg_ctl" stop -D "$DATA" -m immediate >/dev/null 2>&1 || true; exit 1; }

  psql_super "$port" "CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD'"
  psql_super "$port" "CREATE DATABASE $DB_NAME OWNER $DB_USER"
  env_line "$port" >"$ENV_FILE"
  log "ready"
  cat "$ENV_FILE"
}

cmd_stop() {
  BIN="$(find_bindir)" || { log "not running (PostgreSQL is not installed)"; return 0; }
  [[ -d "$RUN_DIR" ]] || { log "not running"; return 0; }
  exec 9>"$RUN_DIR/postgres.lock"
  flock -w 600 9 || die "timed out waiting for another postgres.sh in $RUN_DIR"
  if running; then
    log "stopping PostgreSQL"
    cd "$STATE"
    as_owner "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null ||
      as_owner "$BIN/pg_ctl" stop -D "$DATA" -m immediate -w -t 30 >/dev/null
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$ENV_FILE"
}

cmd_resume() {
  local port
  BIN="$(find_bindir)" || die "PostgreSQL is not installed"
  [[ -f "$DATA/PG_VERSION" && -f "$PORT_FILE" ]] || die "no cluster to resume in $STATE: run start"
  exec 9>"$RUN_DIR/postgres.lock"
  flock -w 600 9 || die "timed out waiting for another postgres.sh in $RUN_DIR"
  port="$(cat "$PORT_FILE")"
  if ! running; then
    cd "$STATE"
    as_owner "$BIN/pg_ctl" start -D "$DATA" -l "$LOG" -w -t "$READY_TIMEOUT" >/dev/null 9>&- ||
      { tail -n 40 "$LOG" >&2; die "pg_ctl start failed"; }
  fi
  wait_ready "$port"
  env_line "$port" >"$ENV_FILE"
  log "resumed on 127.0.0.1:$port"
}

cmd_status() {
  local port
  BIN="$(find_bindir)" || { log "not installed"; return 3; }
  if running && [[ -f "$PORT_FILE" ]] && port="$(cat "$PORT_FILE")" && accepting "$port"; then
    log "running"
    env_line "$port"
    return 0
  fi
  log "not running"
  return 3
}

BIN=""
case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  resume) cmd_resume ;;
  *) echo "usage: $0 start|stop|status|resume" >&2; exit 2 ;;
esac
