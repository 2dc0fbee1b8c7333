#!/usr/bin/env bash
# A private Docker Engine for the provisioning tests, beside (never instead of) a system one:
# its own data root, exec root, pidfile, unix socket (group docker, so the SSH test user can
# reach it), bridge fsdocker0 and address pool, all under the services dir.
#   start: prints `export FS_TEST_DOCKER_HOST=unix://…/docker.sock` once `docker info` answers.
#   stop:  stops the daemon (and the containerd it started) and waits until it is gone.
#   running: exits 0 when it already answers `docker info`.
# A second daemon (a test that restarts its Docker host, backend/test/own-dockerd.ts) sets
# FS_DOCKERD_DIR, FS_DOCKERD_BRIDGE, FS_DOCKERD_BRIDGE_CIDR and FS_DOCKERD_POOL to its own, and
# FS_DOCKERD_IPTABLES=false: each dockerd that manages iptables flushes the DOCKER chains when it
# starts, which would strip the shared daemon's rules. That daemon instead gets one FORWARD rule
# letting its containers talk to each other (bridged traffic meets FORWARD's DROP policy), and
# its published ports go through docker-proxy on the host.
set -euo pipefail
DIR="${FS_DOCKERD_DIR:-${FS_SERVICES_DIR:-/tmp/fieldstation-services}/dockerd}"
SOCKET="$DIR/docker.sock"
BRIDGE="${FS_DOCKERD_BRIDGE:-fsdocker0}"
BRIDGE_CIDR="${FS_DOCKERD_BRIDGE_CIDR:-10.213.0.1/24}"
POOL="${FS_DOCKERD_POOL:-10.214.0.0/16}"
IPTABLES="${FS_DOCKERD_IPTABLES:-true}"
FORWARD_RULE=(FORWARD -s "$POOL" -d "$POOL" -j ACCEPT)

running_pid() {
  [ -f "$DIR/docker.pid" ] || return 1
  local pid
  pid="$(cat "$DIR/docker.pid")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

answers() { DOCKER_HOST="unix://$SOCKET" docker info >/dev/null 2>&1; }

case "${1:-}" in
  start)
    mkdir -p "$DIR/data" "$DIR/exec"
    chmod 0755 "$DIR"
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
      ip link add "$BRIDGE" type bridge
      ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
    fi
    ip link set "$BRIDGE" up
    if [ "$IPTABLES" = false ] && ! iptables -C "${FORWARD_RULE[@]}" 2>/dev/null; then
      iptables -I "${FORWARD_RULE[@]}"
    fi
    if ! running_pid >/dev/null; then
      # setsid: the daemon must outlive this script and the caller's process group.
      setsid dockerd --data-root "$DIR/data" --exec-root "$DIR/exec" \
        --pidfile "$DIR/docker.pid" --host "unix://$SOCKET" --group docker \
        --bridge "$BRIDGE" --default-address-pool "base=$POOL,size=24" \
        --storage-driver overlay2 --log-level warn --iptables="$IPTABLES" \
        </dev/null >>"$DIR/dockerd.log" 2>&1 &
    fi
    for _ in $(seq 1 300); do
      answers && break
      sleep 0.1
    done
    answers || { echo "dockerd did not answer (see $DIR/dockerd.log)" >&2; tail -n 20 "$DIR/dockerd.log" >&2; exit 1; }
    echo "export FS_TEST_DOCKER_HOST=unix://$SOCKET"
    ;;
  running) answers ;;
  stop)
    if pid="$(running_pid)"; then
      kill "$pid"
      # dockerd stops its containers and containerd first; give it up to 30 s.
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$DIR/docker.pid"
    if [ "$IPTABLES" = false ]; then
      while iptables -C "${FORWARD_RULE[@]}" 2>/dev/null; do iptables -D "${FORWARD_RULE[@]}"; done
    fi
    # A daemon that had to be killed leaves its mounts behind; undo them, deepest first.
    findmnt -rn -o TARGET | grep -F "$DIR/" | sort -r | while read -r mount; do umount -l "$mount"; done || true
    ;;
  *) echo "usage: $0 start|stop|running" >&2; exit 2 ;;
esac
