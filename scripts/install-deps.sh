#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian/Ubuntu machine, idempotently:
# the Debian packages of the real services the tests talk to, then the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  redis-server postgresql rabbitmq-server influxdb
  docker.io docker-compose openssh-server sudo ansible debootstrap chromium
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq
  # policy-rc.d keeps package scripts from starting system-wide services we do not use.
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
  $sudo rm -f /usr/sbin/policy-rc.d
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
