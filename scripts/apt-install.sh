#!/usr/bin/env bash
# Installs the given Debian packages that are not installed yet, as root or with passwordless
# sudo. Used by `npm start` (what the server needs at run time) and `npm test` (the test services).
# Exits 3 with one line naming the exact command when it cannot install (no root, no sudo, no apt).
#   usage: scripts/apt-install.sh <package>...
set -euo pipefail

missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo"
  else
    echo "Missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 3
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing packages: ${missing[*]}, and this machine has no apt-get: install them with its package manager" >&2
  exit 3
fi

echo "Installing Debian packages: ${missing[*]}" >&2
$sudo apt-get update -qq
# policy-rc.d keeps package scripts from starting system-wide services we do not use.
printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
$sudo chmod +x /usr/sbin/policy-rc.d
trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >&2
