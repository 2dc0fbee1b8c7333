#!/bin/sh
# Stand-in entrypoint (tests only), like the official influxdb:1.x image's: on first start
# (no meta dir) run influxd on loopback without auth, create INFLUXDB_DB and the admin user,
# stop it, then start influxd for real. INFLUXDB_* variables also configure influxd itself.
set -eu
if [ "$(id -u)" = 0 ]; then
  chown -R influxdb:influxdb /var/lib/influxdb
  exec setpriv --reuid=influxdb --regid=influxdb --init-groups env HOME=/var/lib/influxdb "$0" "$@"
fi
if [ "$1" = influxd ] && [ ! -d /var/lib/influxdb/meta ]; then
  INFLUXDB_HTTP_BIND_ADDRESS=127.0.0.1:8086 INFLUXDB_HTTP_AUTH_ENABLED=false \
    INFLUXDB_HTTP_LOG_ENABLED=false "$@" &
  init_pid=$!
  node /usr/local/bin/init-influxdb.mjs
  kill "$init_pid"
  wait "$init_pid" || true
fi
exec "$@"
