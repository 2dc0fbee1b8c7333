#!/usr/bin/env bash
# Stand-in container images for the provisioning tests (no public registry is reachable here).
# Builds ONE Debian 12 root with Debian's rabbitmq-server, postgresql, influxdb (+ client) and
# wget plus this machine's Node.js (the processor needs Node 20; Debian ships 18), imports it
# into the Docker daemon given by $FS_TEST_DOCKER_HOST (or $DOCKER_HOST) as the base image, then
# layers one stand-in per official image on it with `docker build` (offline: FROM the local
# base) from scripts/test-images/<name>/: the official image's entrypoint behaviour, users and
# environment (POSTGRES_*, INFLUXDB_*, rabbitmq config paths), and a Grafana stand-in that only
# answers /api/health. All tags are saved to one tarball: what the offline image path ships.
#   Cache: ${FS_IMAGE_CACHE:-/var/cache/fieldstation-test-images}/base-<hash>.tar (the base,
#   hash of build_base and the Node version: the slow part) and images-<hash>.tar (everything,
#   hash of this script, scripts/test-images/ and the CA bundle), so a rerun only `docker load`s.
#   stdout: `export FS_TEST_IMAGES_TAR=…` and `export FS_TEST_IMAGE_<NAME>=…` lines only.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${FS_IMAGE_CACHE:-/var/cache/fieldstation-test-images}"
export DOCKER_HOST="${FS_TEST_DOCKER_HOST:-${DOCKER_HOST:-}}"
[ -n "$DOCKER_HOST" ] || { echo "set FS_TEST_DOCKER_HOST (scripts/services/dockerd.sh start)" >&2; exit 1; }
NODE_BIN="$(readlink -f "$(command -v node)")"
NPM_DIR="$(dirname "$(readlink -f "$(command -v npm)")")/.."
STAND_INS=scripts/test-images
# The machine's trust store, given to the node stand-in so npm works behind a TLS proxy.
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
HASH="$( (cat "$0" "$CA_BUNDLE"; "$NODE_BIN" --version
  find "$STAND_INS" -type f | LC_ALL=C sort | while read -r f; do echo "$f"; cat "$f"; done) |
  sha256sum | cut -c1-12)"
TAR="$CACHE/images-$HASH.tar"
NAMES=(rabbitmq postgres influxdb grafana node)
tag() { echo "fieldstation-test/$1:$HASH"; }
log() { echo "[build-test-images $(date +%T)] $*" >&2; }

build_base() {
  local work="$CACHE/work-$BASE_HASH" root
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
    rabbitmq-server postgresql influxdb influxdb-client wget >"$work/apt.log" 2>&1 || { tail -n 20 "$work/apt.log" >&2; exit 1; }
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
  tar -C "$root" -c . | docker import - "$BASE_IMAGE" >&2
  docker save -o "$BASE_TAR.tmp" "$BASE_IMAGE"
  mv "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$work"
}
BASE_HASH="$( (declare -f build_base; "$NODE_BIN" --version) | sha256sum | cut -c1-12)"
BASE_IMAGE="fieldstation-test/base:$BASE_HASH"
BASE_TAR="$CACHE/base-$BASE_HASH.tar"

build_tarball() {
  if [ ! -f "$BASE_TAR" ]; then
    build_base
  elif ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    docker load -q -i "$BASE_TAR" >&2
  fi
  local context
  context="$(mktemp -d)"
  for name in "${NAMES[@]}"; do
    log "docker build $(tag "$name")"
    rm -rf "$context" && cp -a "$STAND_INS/$name" "$context"
    [ "$name" != node ] || cp "$CA_BUNDLE" "$context/ca-certificates.crt"
    DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$BASE_IMAGE" -t "$(tag "$name")" "$context" >&2
  done
  rm -rf "$context"
  log "docker save"
  docker save -o "$TAR.tmp" $(for name in "${NAMES[@]}"; do tag "$name"; done)
  mv "$TAR.tmp" "$TAR"
  # Older generations are never used again.
  find "$CACHE" -maxdepth 1 -name '*.tar' ! -name "$(basename "$TAR")" ! -name "$(basename "$BASE_TAR")" -delete
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one build at a time; a second caller waits and then finds the cache
started=$SECONDS
if [ ! -f "$TAR" ]; then
  build_tarball
  log "built $TAR in $((SECONDS - started)) s"
elif ! docker image inspect "$(tag node)" >/dev/null 2>&1; then
  docker load -q -i "$TAR" >&2
  log "loaded cached $TAR in $((SECONDS - started)) s"
fi
echo "export FS_TEST_IMAGES_TAR=$TAR"
for name in "${NAMES[@]}"; do
  echo "export FS_TEST_IMAGE_$(echo "$name" | tr a-z A-Z)=$(tag "$name")"
done
