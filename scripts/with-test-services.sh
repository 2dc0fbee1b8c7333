#!/usr/bin/env bash
# Runs one command with the tests' real services started on loopback (the same ones `npm test`
# starts: scripts/services/*.sh) and the cached stand-in images loaded. Afterwards it stops only
# the services it started itself: ones already running (another suite, a developer's shell)
# keep running.
#   usage: scripts/with-test-services.sh <command> [args...]
# Assumes the Debian packages are installed (scripts/install-deps.sh, which `npm test` runs).
set -euo pipefail
cd "$(dirname "$0")/.."
export FS_SERVICES_DIR="${FS_SERVICES_DIR:-/tmp/fieldstation-services}"
STARTED=()
stop_started_services() {
  for script in ${STARTED[@]+"${STARTED[@]}"}; do "$script" stop >/dev/null 2>&1 || true; done
}
trap stop_started_services EXIT
for script in scripts/services/*.sh; do
  "$script" running || STARTED+=("$script")
  eval "$("$script" start)"
done
eval "$(scripts/build-test-images.sh)"
"$@"
