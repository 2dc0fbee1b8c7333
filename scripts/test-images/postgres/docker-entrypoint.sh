#!/bin/sh
# Stand-in entrypoint (tests only), like the official postgres image's: on an empty $PGDATA,
# initdb with the superuser password from $POSTGRES_PASSWORD (read from a pipe, never argv),
# password auth for network clients, trust on the local socket, and $POSTGRES_DB created; any
# other command (psql, say) is executed as it is.
set -eu
# Like the official image, anything but the server (psql for a one-shot setup, say) runs as given.
if [ "${1:-}" != postgres ]; then
  exec "$@"
fi
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 0700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups env HOME=/var/lib/postgresql "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
  printf '%s\n' "$POSTGRES_PASSWORD" | initdb --username=postgres --pwfile=/dev/stdin \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 >/dev/null
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then
    # Single-user mode: no server, no socket; the name is quoted as an identifier.
    printf 'CREATE DATABASE "%s";\n' "$(printf '%s' "$POSTGRES_DB" | sed 's/"/""/g')" |
      postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi
exec "$@"
