#!/usr/bin/env bash
# The full test suite, as README.md documents it: installs what the tests need, checks format,
# lint and types, builds, starts the real services on loopback, runs every workspace's tests,
# stops the services, and prints one closing line: "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Installing dependencies"
scripts/install-deps.sh

step "Format, lint, types"
npx prettier --check . --log-level warn
npx eslint --max-warnings=0 .
npm run typecheck --workspaces --if-present --silent

step "Build"
npm run build --workspaces --if-present --silent
if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet -- backend/openapi.json; then
  echo "backend/openapi.json changed when built: commit the regenerated API contract" >&2
  git diff --stat -- backend/openapi.json >&2
  exit 1
fi

step "Starting services"
export FS_SERVICES_DIR="${FS_SERVICES_DIR:-/tmp/fieldstation-services}"
SERVICES=()
for script in scripts/services/*.sh; do SERVICES+=("$script"); done
stop_services() {
  for script in "${SERVICES[@]}"; do "$script" stop >/dev/null 2>&1 || true; done
}
trap stop_services EXIT
for script in "${SERVICES[@]}"; do
  echo "starting $(basename "$script" .sh)" >&2
  eval "$("$script" start)"
done
# Stand-in images for the provisioning tests, cached between runs (~5 min the first time).
step "Test images"
eval "$(scripts/build-test-images.sh)"

step "Tests"
RESULTS="$ROOT/test-results/vitest"
rm -rf "$RESULTS" && mkdir -p "$RESULTS"
status=0
for workspace in $(npm query .workspace | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>JSON.parse(s).filter(w=>w.scripts?.test).forEach(w=>console.log(w.location)))'); do
  step "Tests: $workspace"
  (cd "$workspace" && npx vitest run --reporter=default --reporter=json \
    --outputFile="$RESULTS/$(echo "$workspace" | tr / -).json") || status=1
done

node scripts/summarize-tests.mjs "$RESULTS"
exit $status
