#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian/Ubuntu machine, idempotently:
# the Debian packages of the real services the tests talk to, then the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  redis-server postgresql rabbitmq-server influxdb
  docker.io docker-compose openssh-server sudo ansible debootstrap chromium
)

scripts/apt-install.sh "${PACKAGES[@]}"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
