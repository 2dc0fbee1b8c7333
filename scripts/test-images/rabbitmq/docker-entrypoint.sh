#!/bin/sh
# Stand-in entrypoint (tests only), like the official image's: as root, hand the data dir to
# the broker's user and re-run as that user; the node reads /etc/rabbitmq/{rabbitmq.conf,
# enabled_plugins} and the definitions file rabbitmq.conf names.
set -eu
if [ "$(id -u)" = 0 ]; then
  chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups env HOME=/var/lib/rabbitmq "$0" "$@"
fi
exec "$@"
