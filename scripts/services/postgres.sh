#!/usr/bin/env bash
# A private PostgreSQL cluster for the tests on 127.0.0.1:55432 (trust auth, loopback only).
#   start: prints `export FS_TEST_POSTGRES_URL=…` (superuser URL) once it accepts connections.
#   stop:  stops the cluster.
#   running: exits 0 when it already accepts connections.
set -euo pipefail
DIR="${FS_SERVICES_DIR:-/tmp/fieldstation-services}/postgres"
PORT=55432
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
as_postgres() { runuser -u postgres -- "$@"; }

case "${1:-}" in
  start)
    mkdir -p "$DIR"
    chown postgres:postgres "$DIR"
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      as_postgres "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 >&2
    fi
    if ! as_postgres "$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" >/dev/null 2>&1; then
      as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 60 start \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -k $DIR -c max_connections=200" >&2
    fi
    echo "export FS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
    ;;
  running) as_postgres "$BIN/pg_isready" -h 127.0.0.1 -p "$PORT" >/dev/null 2>&1 ;;
  stop)
    [ -f "$DIR/data/postmaster.pid" ] && as_postgres "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
    ;;
  *) echo "usage: $0 start|stop|running" >&2; exit 2 ;;
esac
