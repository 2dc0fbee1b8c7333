#!/usr/bin/env bash
# A private RabbitMQ node for the tests, loopback only, with the MQTT and management plugins:
#   AMQP 127.0.0.1:55672, MQTT 127.0.0.1:51883, management API 127.0.0.1:55673,
#   Erlang distribution 55674 and a private epmd on 55675 (so a system node is never touched).
# The guest user never exists: the node is seeded with one administrator whose generated password
# is kept (mode 0600) in the instance directory and reused on the next start.
#   start: prints `export` lines only:
#     FS_TEST_AMQP_URL         amqp://<user>:<pass>@127.0.0.1:55672
#     FS_TEST_MQTT_URL         mqtt://127.0.0.1:51883 (credentials NOT in the URL; use the two below)
#     FS_TEST_MQTT_USERNAME, FS_TEST_MQTT_PASSWORD   the same administrator
#     FS_TEST_RABBITMQ_API_URL http://127.0.0.1:55673 (basic auth with the same credentials)
#   stop:  stops the node and its epmd; nothing is left running.
#   running: exits 0 when the node already answers on its API, AMQP and MQTT ports.
set -euo pipefail
DIR="${FS_SERVICES_DIR:-/tmp/fieldstation-services}/rabbitmq"
AMQP_PORT=55672
MQTT_PORT=51883
API_PORT=55673
DIST_PORT=55674
EPMD_PORT=55675
NODE="fieldstation-test@localhost"
ADMIN_USER="fs-admin"
RMQ_BIN=/usr/lib/rabbitmq/bin

log() { echo "rabbitmq: $*" >&2; }

# Every rabbitmq command runs as the rabbitmq user with the private instance's environment.
as_rabbitmq() {
  runuser -u rabbitmq -- env \
    HOME="$DIR" \
    ERL_EPMD_PORT="$EPMD_PORT" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_NODENAME="$NODE" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$AMQP_PORT" \
    RABBITMQ_DIST_PORT="$DIST_PORT" \
    RABBITMQ_MNESIA_BASE="$DIR/mnesia" \
    RABBITMQ_LOG_BASE="$DIR/log" \
    RABBITMQ_PID_FILE="$DIR/rabbitmq.pid" \
    RABBITMQ_CONFIG_FILE="$DIR/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$DIR/advanced.config" \
    RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" \
    "$@"
}

node_running() { as_rabbitmq "$RMQ_BIN/rabbitmqctl" -q status >/dev/null 2>&1; }

api_answers() {
  curl -fsS -o /dev/null --max-time 2 -u "$ADMIN_USER:$(cat "$DIR/admin-password")" \
    "http://127.0.0.1:$API_PORT/api/overview" 2>/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

answering() { [ -s "$DIR/admin-password" ] && api_answers && port_open "$MQTT_PORT" && port_open "$AMQP_PORT"; }

kill_stale() {
  if [ -f "$DIR/rabbitmq.pid" ]; then
    local pid
    pid="$(cat "$DIR/rabbitmq.pid")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      log "stopping stale node (pid $pid)"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$DIR/rabbitmq.pid"
  fi
}

stop_epmd() { ERL_EPMD_PORT="$EPMD_PORT" epmd -kill >/dev/null 2>&1 || true; }

write_config() {
  mkdir -p "$DIR/mnesia" "$DIR/log"
  if [ ! -s "$DIR/admin-password" ]; then
    # A new password only fits a fresh database: the seeded user lives in mnesia.
    rm -rf "$DIR/mnesia" && mkdir -p "$DIR/mnesia"
    (umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$DIR/admin-password")
  fi
  local password
  password="$(cat "$DIR/admin-password")"
  (
    umask 077
    cat >"$DIR/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$AMQP_PORT
mqtt.listeners.tcp.1 = 127.0.0.1:$MQTT_PORT
mqtt.allow_anonymous = false
mqtt.vhost = /
mqtt.exchange = amq.topic
management.tcp.ip = 127.0.0.1
management.tcp.port = $API_PORT
default_user = $ADMIN_USER
default_pass = $password
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
loopback_users = none
classic_queue.default_version = 2
EOF
  )
  echo '[].' >"$DIR/advanced.config"
  : >"$DIR/rabbitmq-env.conf"
  echo '[rabbitmq_mqtt,rabbitmq_management].' >"$DIR/enabled_plugins"
  head -c 20 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$DIR/.erlang.cookie.new"
  [ -s "$DIR/.erlang.cookie" ] || mv "$DIR/.erlang.cookie.new" "$DIR/.erlang.cookie"
  rm -f "$DIR/.erlang.cookie.new"
  chmod 400 "$DIR/.erlang.cookie"
  chown -R rabbitmq:rabbitmq "$DIR"
}

print_exports() {
  local password
  password="$(cat "$DIR/admin-password")"
  echo "export FS_TEST_AMQP_URL=amqp://$ADMIN_USER:$password@127.0.0.1:$AMQP_PORT"
  echo "export FS_TEST_MQTT_URL=mqtt://127.0.0.1:$MQTT_PORT"
  echo "export FS_TEST_MQTT_USERNAME=$ADMIN_USER"
  echo "export FS_TEST_MQTT_PASSWORD=$password"
  echo "export FS_TEST_RABBITMQ_API_URL=http://127.0.0.1:$API_PORT"
}

start() {
  mkdir -p "$DIR"
  if answering; then
    log "reusing the running node"
    print_exports
    return
  fi
  if node_running; then
    log "node runs but does not answer as expected; restarting it"
    as_rabbitmq "$RMQ_BIN/rabbitmqctl" -q stop "$DIR/rabbitmq.pid" >&2 || true
  fi
  kill_stale
  write_config
  log "starting node $NODE"
  (
    cd "$DIR"
    as_rabbitmq setsid "$RMQ_BIN/rabbitmq-server" >"$DIR/log/startup.log" 2>&1 </dev/null &
  )
  # await_startup returns once the boot finished (or failed); then the listeners must answer.
  if ! as_rabbitmq "$RMQ_BIN/rabbitmqctl" -q wait --timeout 120 "$DIR/rabbitmq.pid" >&2; then
    log "the node did not start; see $DIR/log"
    tail -n 30 "$DIR/log/startup.log" >&2 || true
    exit 1
  fi
  local deadline=$((SECONDS + 60))
  until api_answers && port_open "$MQTT_PORT" && port_open "$AMQP_PORT"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "listeners did not open in time; see $DIR/log"
      exit 1
    fi
    sleep 0.3
  done
  log "ready"
  print_exports
}

stop() {
  if [ -d "$DIR" ]; then
    if node_running; then
      as_rabbitmq "$RMQ_BIN/rabbitmqctl" -q stop "$DIR/rabbitmq.pid" >&2 || true
    fi
    kill_stale
  fi
  stop_epmd
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  running) answering ;;
  *)
    echo "usage: $0 start|stop|running" >&2
    exit 2
    ;;
esac
