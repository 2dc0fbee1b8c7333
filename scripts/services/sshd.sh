#!/usr/bin/env bash
# A private OpenSSH server for the provisioning tests on 127.0.0.1:52222, key-only, for one
# dedicated login user (fstest, passwordless sudo: the playbooks use `become`).
#   start: prints `export FS_TEST_SSH_*=…` on stdout once the test user can log in.
#   stop:  stops this sshd (the user and its sudoers entry stay; they are recreated idempotently).
#   running: exits 0 when it already runs.
# The host key, the client key pair and authorized_keys live in the services dir, so a fresh
# dir means fresh keys. Tests may append public keys to $FS_TEST_SSH_AUTHORIZED_KEYS.
set -euo pipefail
DIR="${FS_SERVICES_DIR:-/tmp/fieldstation-services}/sshd"
PORT=52222
HOST=127.0.0.1
LOGIN=fstest

ssh_as_test_user() {
  ssh -p "$PORT" -i "$DIR/client_ed25519" -o BatchMode=yes -o ConnectTimeout=2 \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$DIR/known_hosts" \
    -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR "$LOGIN@$HOST" "$@"
}

running_pid() {
  [ -f "$DIR/sshd.pid" ] || return 1
  local pid
  pid="$(cat "$DIR/sshd.pid")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

ensure_user() {
  if ! id "$LOGIN" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash "$LOGIN" >&2
  fi
  # A login recreated with a new uid finds its old home owned by the old one (Ansible then cannot
  # make ~/.ansible/tmp and reports the host unreachable).
  chown -R "$LOGIN:" "$(getent passwd "$LOGIN" | cut -d: -f6)"
  # "*" = no password login but not "locked" (sshd refuses locked accounts even with keys).
  usermod --password '*' "$LOGIN" >&2
  # The private dockerd's socket belongs to group docker (see dockerd.sh).
  if getent group docker >/dev/null; then usermod --append --groups docker "$LOGIN" >&2; fi
  mkdir -p /etc/sudoers.d
  local sudoers=/etc/sudoers.d/fieldstation-test-ssh
  echo "$LOGIN ALL=(ALL) NOPASSWD:ALL" >"$sudoers.tmp"
  chmod 0440 "$sudoers.tmp"
  visudo -cqf "$sudoers.tmp" >&2
  mv "$sudoers.tmp" "$sudoers"
}

write_config() {
  cat >"$DIR/sshd_config" <<EOF
ListenAddress $HOST
Port $PORT
HostKey $DIR/ssh_host_ed25519_key
PidFile $DIR/sshd.pid
# Read as root by a command, so the keys file works whatever the services dir's modes are
# (sshd reads an AuthorizedKeysFile as the login user, who may not traverse a 0700 dir).
AuthorizedKeysFile none
AuthorizedKeysCommand /usr/bin/cat $DIR/authorized_keys
AuthorizedKeysCommandUser root
AllowUsers $LOGIN
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
# The keys live under /tmp (world-writable), which StrictModes would reject.
StrictModes no
MaxStartups 50:30:100
MaxSessions 50
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF
}

case "${1:-}" in
  start)
    command -v sudo >/dev/null || { echo "sudo is not installed (apt-get install sudo)" >&2; exit 1; }
    mkdir -p "$DIR" /run/sshd
    chmod 0755 "$DIR"
    ensure_user
    [ -f "$DIR/ssh_host_ed25519_key" ] ||
      ssh-keygen -q -t ed25519 -N '' -C fieldstation-test-host -f "$DIR/ssh_host_ed25519_key" >&2
    [ -f "$DIR/client_ed25519" ] ||
      ssh-keygen -q -t ed25519 -N '' -C fieldstation-test-client -f "$DIR/client_ed25519" >&2
    chmod 0600 "$DIR/client_ed25519"
    if [ ! -f "$DIR/authorized_keys" ]; then
      cp "$DIR/client_ed25519.pub" "$DIR/authorized_keys"
    fi
    chmod 0644 "$DIR/authorized_keys"
    echo "[$HOST]:$PORT $(cut -d' ' -f1,2 "$DIR/ssh_host_ed25519_key.pub")" >"$DIR/known_hosts"
    write_config
    /usr/sbin/sshd -t -f "$DIR/sshd_config" >&2
    if ! running_pid >/dev/null; then
      /usr/sbin/sshd -f "$DIR/sshd_config" -E "$DIR/sshd.log"
    fi
    for _ in $(seq 1 100); do
      ssh_as_test_user true 2>/dev/null && break
      sleep 0.1
    done
    ssh_as_test_user sudo -n true ||
      { echo "sshd did not accept the test login (see $DIR/sshd.log)" >&2; exit 1; }
    echo "export FS_TEST_SSH_HOST=$HOST"
    echo "export FS_TEST_SSH_PORT=$PORT"
    echo "export FS_TEST_SSH_USER=$LOGIN"
    echo "export FS_TEST_SSH_KEY_FILE=$DIR/client_ed25519"
    echo "export FS_TEST_SSH_AUTHORIZED_KEYS=$DIR/authorized_keys"
    echo "export FS_TEST_SSH_HOST_PUBLIC_KEY_FILE=$DIR/ssh_host_ed25519_key.pub"
    ;;
  running) running_pid >/dev/null ;;
  stop)
    if pid="$(running_pid)"; then
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$DIR/sshd.pid"
    ;;
  *) echo "usage: $0 start|stop|running" >&2; exit 2 ;;
esac
