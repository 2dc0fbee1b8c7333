#!/usr/bin/env bash
# A private Redis for the tests on 127.0.0.1:56379.
#   start: prints `export FS_TEST_REDIS_URL=…` on stdout once Redis answers PING.
#   stop:  shuts it down.
#   running: exits 0 when it already answers (so a caller knows it did not start it).
set -euo pipefail
DIR="${FS_SERVICES_DIR:-/tmp/fieldstation-services}/redis"
PORT=56379

case "${1:-}" in
  start)
    mkdir -p "$DIR"
    if ! redis-cli -p "$PORT" ping >/dev/null 2>&1; then
      redis-server --bind 127.0.0.1 --port "$PORT" --dir "$DIR" --appendonly yes \
        --maxmemory-policy noeviction --save '' --daemonize yes \
        --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" >&2
      for _ in $(seq 1 100); do
        redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
        sleep 0.1
      done
    fi
    redis-cli -p "$PORT" ping >/dev/null || { echo "redis did not start" >&2; exit 1; }
    echo "export FS_TEST_REDIS_URL=redis://127.0.0.1:$PORT"
    ;;
  running) redis-cli -p "$PORT" ping >/dev/null 2>&1 ;;
  stop)
    redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop|running" >&2; exit 2 ;;
esac
