#!/usr/bin/env bash
# A private InfluxDB 1.x for the tests: HTTP API on 127.0.0.1:58086, its bind (backup/RPC)
# address on 127.0.0.1:58088, meta/data/wal under the instance directory, no auth (loopback
# only), usage reporting disabled.
#   start: prints `export FS_TEST_INFLUX_URL=http://127.0.0.1:58086` once /ping answers.
#   stop:  stops it; nothing is left running.
#   running: exits 0 when it already answers /ping.
set -euo pipefail
DIR="${FS_SERVICES_DIR:-/tmp/fieldstation-services}/influxdb"
HTTP_PORT=58086
BIND_PORT=58088

log() { echo "influxdb: $*" >&2; }

pings() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$HTTP_PORT/ping" 2>/dev/null; }

running_pid() {
  local pid
  [ -f "$DIR/influxd.pid" ] || return 1
  pid="$(cat "$DIR/influxd.pid")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/influxd.pid"
}

write_config() {
  mkdir -p "$DIR/meta" "$DIR/data" "$DIR/wal"
  cat >"$DIR/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$BIND_PORT"

[meta]
  dir = "$DIR/meta"

[data]
  dir = "$DIR/data"
  wal-dir = "$DIR/wal"
  query-log-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:$HTTP_PORT"
  auth-enabled = false
  log-enabled = false

[monitor]
  store-enabled = false

[logging]
  level = "warn"
EOF
}

start() {
  mkdir -p "$DIR"
  if running_pid >/dev/null && pings; then
    log "reusing the running server"
  else
    stop
    write_config
    log "starting"
    setsid influxd run -config "$DIR/influxdb.conf" -pidfile "$DIR/influxd.pid" \
      >"$DIR/influxd.log" 2>&1 </dev/null &
    local deadline=$((SECONDS + 60))
    until pings; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        log "did not answer /ping in time; see $DIR/influxd.log"
        tail -n 20 "$DIR/influxd.log" >&2 || true
        exit 1
      fi
      sleep 0.2
    done
    log "ready"
  fi
  echo "export FS_TEST_INFLUX_URL=http://127.0.0.1:$HTTP_PORT"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  running) running_pid >/dev/null && pings ;;
  *)
    echo "usage: $0 start|stop|running" >&2
    exit 2
    ;;
esac
