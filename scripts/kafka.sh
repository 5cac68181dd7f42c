#!/usr/bin/env bash
# Installs (cached), starts, checks and stops a real single-node Apache Kafka 4.x broker (KRaft) for tests.
#
# Usage: scripts/kafka.sh start|stop|status|pause|resume
#   start   fetch the broker jars once (Maven, cached in $CONSILIUM_CACHE), format a fresh data dir,
#           start the broker on a free 127.0.0.1 port, wait until it answers metadata, write and
#           print $RUN_DIR/kafka.env. A no-op (reprints) when it already runs and is healthy.
#   stop    SIGTERM, wait, SIGKILL after a bound; safe when nothing runs.
#   status  exit 0 and print the env line when it runs and its port answers; exit 3 otherwise.
#   pause   stop the broker but keep its data, config and port (outage tests)
#   resume  start that same broker again and wait until it is ready
# Environment: CONSILIUM_CACHE (default ~/.cache/consilium), CONSILIUM_RUN_DIR (default
#   /tmp/consilium-test-run-$UID), CONSILIUM_KAFKA_PORT / CONSILIUM_KAFKA_CONTROLLER_PORT (default:
#   free ports), CONSILIUM_KAFKA_HEAP (default "-Xms512m -Xmx1g"),
#   CONSILIUM_KAFKA_READY_TIMEOUT (seconds, default 120).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPLOY="$REPO/deploy/kafka"
POM="$DEPLOY/pom.xml"
CACHE="${CONSILIUM_CACHE:-$HOME/.cache/consilium}"
RUN_DIR="${CONSILIUM_RUN_DIR:-/tmp/consilium-test-run-$UID}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")"
KAFKA_HOME="$CACHE/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
STAMP="$KAFKA_HOME/.pom.sha256"
STATE="$RUN_DIR/kafka"
PID_FILE="$STATE/kafka.pid"
PORT_FILE="$STATE/port"
CONF="$STATE/server.properties"
LOG="$STATE/broker.log"
ENV_FILE="$RUN_DIR/kafka.env"
HEAP="${CONSILIUM_KAFKA_HEAP:--Xms512m -Xmx1g}"
READY_TIMEOUT="${CONSILIUM_KAFKA_READY_TIMEOUT:-120}"
STOP_TIMEOUT=60
PY="${CONSILIUM_PYTHON:-$REPO/.venv/bin/python}"
TOOL_JVM="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.11.0"

log() { echo "kafka.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# A process counts as alive unless it is gone or a zombie nobody reaped yet.
alive() {
  local pid="$1" state
  kill -0 "$pid" 2>/dev/null || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo X)"
  [[ "$state" != Z && "$state" != X ]]
}

# The pid from the pid file, if that process is our broker (not a recycled pid).
broker_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $CONF" || return 1
  echo "$pid"
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

ensure_java_maven() {
  if command -v java >/dev/null && command -v mvn >/dev/null; then return; fi
  [[ "$(id -u)" == 0 ]] || die "java 17+ and mvn are needed (apt-get install openjdk-17-jre-headless maven)"
  log "installing Java and Maven with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
}

# Fetch the broker jars once; the stamp holds the pom's hash, so a changed pom re-fetches.
install_jars() {
  local want tmp
  want="$(sha256sum "$POM" | cut -d' ' -f1)"
  if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then return; fi
  mkdir -p "$CACHE"
  exec 8>"$CACHE/kafka-$KAFKA_VERSION.lock"
  flock -w 900 8 || die "timed out waiting for another Kafka download ($CACHE)"
  if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then exec 8>&-; return; fi
  ensure_java_maven
  log "fetching Kafka $KAFKA_VERSION jars with Maven into $LIBS (once)"
  tmp="$KAFKA_HOME.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! (cd "$tmp" && mvn -q -B -Dstyle.color=never -f "$POM" "$DEP_PLUGIN:copy-dependencies" \
        -DincludeScope=runtime -DoutputDirectory="$tmp/libs") >"$tmp/mvn.log" 2>&1; then
    tail -n 40 "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    die "maven could not fetch the Kafka jars"
  fi
  ls "$tmp/libs"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null || die "kafka_2.13-$KAFKA_VERSION.jar missing"
  mkdir -p "$KAFKA_HOME"
  rm -rf "$LIBS"
  mv "$tmp/libs" "$LIBS"
  rm -rf "$tmp"
  echo "$want" >"$STAMP"
  exec 8>&-
}

# Wait for the broker: first its port, then a real metadata call with aiokafka's admin client.
wait_ready() {
  local pid="$1" port="$2" deadline=$((SECONDS + READY_TIMEOUT))
  until port_open "$port"; do
    alive "$pid" || { log "the broker exited while starting"; return 1; }
    ((SECONDS < deadline)) || { log "port $port did not open within ${READY_TIMEOUT}s"; return 1; }
    sleep 0.3
  done
  [[ -x "$PY" ]] || die "$PY is missing: run scripts/bootstrap.sh first (the readiness check uses aiokafka)"
  "$PY" - "127.0.0.1:$port" "$pid" "$((deadline - SECONDS))" <<'EOF'
import asyncio, os, sys, time
from aiokafka.admin import AIOKafkaAdminClient

bootstrap, pid, budget = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

async def probe() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await asyncio.wait_for(admin.start(), 10)
        info = await asyncio.wait_for(admin.describe_cluster(), 10)
        if not info.get("brokers"):
            raise RuntimeError("metadata lists no broker yet")
    finally:
        try:
            await admin.close()
        except Exception:
            pass

deadline = time.monotonic() + max(budget, 5)
last = None
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("kafka.sh: the broker exited while starting")
    try:
        asyncio.run(probe())
        sys.exit(0)
    except Exception as exc:  # not ready yet: retry until the deadline
        last = exc
        time.sleep(0.5)
sys.exit(f"kafka.sh: no metadata answer from {bootstrap} in time (last error: {last!r})")
EOF
}

print_env() { cat "$ENV_FILE"; }

cmd_start() {
  local pid port cport cluster_id
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/kafka.lock"
  flock -w 600 9 || die "timed out waiting for another kafka.sh in $RUN_DIR"

  if pid="$(broker_pid)" && [[ -f "$PORT_FILE" ]]; then
    port="$(cat "$PORT_FILE")"
    if wait_ready "$pid" "$port"; then
      echo "CONSILIUM_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$port" >"$ENV_FILE"
      log "already running (pid $pid)"
      print_env
      return
    fi
    log "a broker runs (pid $pid) but is not healthy: restarting it"
    stop_broker "$pid"
  fi
  rm -f "$PID_FILE" "$ENV_FILE"

  install_jars

  if [[ -n "${CONSILIUM_KAFKA_PORT:-}" ]]; then
    port="$CONSILIUM_KAFKA_PORT"
    cport="${CONSILIUM_KAFKA_CONTROLLER_PORT:-$(free_ports 1)}"
  else
    read -r port cport < <(free_ports 2)
    cport="${CONSILIUM_KAFKA_CONTROLLER_PORT:-$cport}"
  fi
  ! port_open "$port" || die "port $port is already taken"

  # Always a fresh cluster: test data is throwaway and the controller's port is in its metadata.
  rm -rf "$STATE"
  mkdir -p "$STATE/data"
  sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$cport|g" -e "s|@DATA_DIR@|$STATE/data|g" \
    "$DEPLOY/server.properties.in" >"$CONF"
  echo "$port" >"$PORT_FILE"

  # Short-lived tool JVMs start faster with the C1 compiler only.
  cluster_id="$(java $TOOL_JVM -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>>"$STATE/format.log" | tail -n 1)"
  [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "StorageTool random-uuid gave '$cluster_id'"
  java $TOOL_JVM -cp "$LIBS/*" kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$CONF" \
    >>"$STATE/format.log" 2>&1 || { cat "$STATE/format.log" >&2; die "StorageTool format failed"; }

  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$port (controller 127.0.0.1:$cport), log: $LOG"
  launch_broker "$port"
}

# Starts the broker on the existing config and data, waits until it is ready, writes the env.
launch_broker() {
  local port="$1" pid
  # shellcheck disable=SC2086  # HEAP holds several JVM options
  setsid nohup java $HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$DEPLOY/log4j2.properties" \
    -cp "$LIBS/*" kafka.Kafka "$CONF" >>"$LOG" 2>&1 </dev/null 8>&- 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"

  if ! wait_ready "$pid" "$port"; then
    log "the broker did not become ready; last lines of $LOG:"
    tail -n 60 "$LOG" >&2 || true
    stop_broker "$pid"
    rm -f "$PID_FILE"
    exit 1
  fi
  echo "CONSILIUM_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$port" >"$ENV_FILE"
  log "ready (pid $pid)"
  print_env
}

# Stops the broker but keeps its data, config and port: `resume` brings the same cluster back.
# For outage tests: clients see a broker that is gone, then the same one again.
cmd_pause() {
  local pid
  exec 9>"$RUN_DIR/kafka.lock"
  flock -w 600 9 || die "timed out waiting for another kafka.sh in $RUN_DIR"
  pid="$(broker_pid)" || die "no broker runs in $RUN_DIR"
  log "pausing the broker (pid $pid); data kept in $STATE"
  stop_broker "$pid"
  rm -f "$PID_FILE"
}

cmd_resume() {
  local port
  exec 9>"$RUN_DIR/kafka.lock"
  flock -w 600 9 || die "timed out waiting for another kafka.sh in $RUN_DIR"
  if broker_pid >/dev/null; then log "already running"; print_env; return; fi
  [[ -f "$CONF" && -f "$PORT_FILE" ]] || die "nothing to resume in $STATE: run start"
  port="$(cat "$PORT_FILE")"
  log "resuming the broker on 127.0.0.1:$port with its data"
  launch_broker "$port"
}

stop_broker() {
  local pid="$1" deadline
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if alive "$pid"; then
    log "still running after ${STOP_TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  fi
}

cmd_stop() {
  local pid
  [[ -d "$RUN_DIR" ]] || { log "not running"; return 0; }
  exec 9>"$RUN_DIR/kafka.lock"
  flock -w 600 9 || die "timed out waiting for another kafka.sh in $RUN_DIR"
  if pid="$(broker_pid)"; then
    log "stopping the broker (pid $pid)"
    stop_broker "$pid"
    log "stopped"
  else
    log "not running"
  fi
  rm -f "$PID_FILE" "$ENV_FILE"
}

cmd_status() {
  local pid port
  if pid="$(broker_pid)" && [[ -f "$PORT_FILE" ]] && port="$(cat "$PORT_FILE")" && port_open "$port"; then
    log "running (pid $pid)"
    echo "CONSILIUM_TEST_KAFKA_BOOTSTRAP=127.0.0.1:$port"
    return 0
  fi
  log "not running"
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  pause) cmd_pause ;;
  resume) cmd_resume ;;
  *) echo "usage: $0 start|stop|status|pause|resume" >&2; exit 2 ;;
esac
