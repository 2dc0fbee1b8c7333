#!/usr/bin/env bash
# Stand-in container images for the provisioning tests (no public registry is reachable here).
# Builds ONE Debian 12 root with Debian's rabbitmq-server, postgresql and influxdb plus this
# machine's Node.js (the processor needs Node 20; Debian ships 18), imports it into the Docker
# daemon given by $FS_TEST_DOCKER_HOST (or $DOCKER_HOST), tags it once per stand-in and saves
# the tags to a tarball: the tarball is what the offline image path ships to the host.
#   Cache: ${FS_IMAGE_CACHE:-/var/cache/fieldstation-test-images}/images-<hash>.tar, where the
#   hash covers this script and the Node version, so a rerun only `docker load`s (seconds).
#   stdout: `export FS_TEST_IMAGES_TAR=…` and `export FS_TEST_IMAGE_<NAME>=…` lines only.
# The images carry no entrypoint yet: the compose file for tests sets each service's command.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${FS_IMAGE_CACHE:-/var/cache/fieldstation-test-images}"
export DOCKER_HOST="${FS_TEST_DOCKER_HOST:-${DOCKER_HOST:-}}"
[ -n "$DOCKER_HOST" ] || { echo "set FS_TEST_DOCKER_HOST (scripts/services/dockerd.sh start)" >&2; exit 1; }
NODE_BIN="$(readlink -f "$(command -v node)")"
NPM_DIR="$(dirname "$(readlink -f "$(command -v npm)")")/.."
HASH="$( (cat "$0"; "$NODE_BIN" --version) | sha256sum | cut -c1-12)"
TAR="$CACHE/images-$HASH.tar"
NAMES=(rabbitmq postgres influxdb node)
tag() { echo "fieldstation-test/$1:$HASH"; }
log() { echo "[build-test-images $(date +%T)] $*" >&2; }

build_tarball() {
  local work="$CACHE/work-$HASH" root
  root="$work/root"
  rm -rf "$work" && mkdir -p "$work"
  # The same mirror as the host's apt sources (the only archive reachable).
  local mirror
  mirror="$(awk '/^URIs:/ && $2 ~ /\/debian$/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  log "debootstrap bookworm from $mirror"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  # Package scripts must not start services inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc"
  trap 'umount "'"$root"'/proc" 2>/dev/null || true' EXIT
  log "installing rabbitmq-server postgresql influxdb in the root"
  chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    rabbitmq-server postgresql influxdb >"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log" >&2; exit 1; }
  chroot "$root" apt-get clean
  umount "$root/proc"
  trap - EXIT
  rm -rf "$root/var/lib/apt/lists"/* "$root/usr/sbin/policy-rc.d"
  log "adding Node $("$NODE_BIN" --version) and npm from this machine"
  install -D -m 0755 "$NODE_BIN" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules"
  cp -a "$NPM_DIR" "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  log "docker import"
  tar -C "$root" -c . | docker import - "$(tag base)" >&2
  for name in "${NAMES[@]}"; do docker tag "$(tag base)" "$(tag "$name")"; done
  log "docker save"
  docker save -o "$TAR.tmp" "$(tag base)" $(for name in "${NAMES[@]}"; do tag "$name"; done)
  mv "$TAR.tmp" "$TAR"
  rm -rf "$work"
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one build at a time; a second caller waits and then finds the cache
started=$SECONDS
if [ ! -f "$TAR" ]; then
  build_tarball
  log "built $TAR in $((SECONDS - started)) s"
elif ! docker image inspect "$(tag base)" >/dev/null 2>&1; then
  docker load -q -i "$TAR" >&2
  log "loaded cached $TAR in $((SECONDS - started)) s"
fi
echo "export FS_TEST_IMAGES_TAR=$TAR"
for name in "${NAMES[@]}"; do
  echo "export FS_TEST_IMAGE_$(echo "$name" | tr a-z A-Z)=$(tag "$name")"
done
