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
LOGS="$ROOT/test-results/lanes"
rm -rf "$RESULTS" "$LOGS" && mkdir -p "$RESULTS" "$LOGS"
WORKSPACES=$(npm query .workspace | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>JSON.parse(s).filter(w=>w.scripts?.test).forEach(w=>console.log(w.location)))')

# A line in the lane's log and on the console (fd 3; written through the inherited descriptor,
# never reopened, so a console that is a file is appended to, not truncated).
progress() {
  echo "== $*"
  echo "== $*" >&3
}

# One lane's files of every workspace, a vitest run per workspace; non-zero when any failed or
# could not be listed. Progress lines go to fd 3 (the console) as well as to the lane's log.
run_lane() {
  local lane="$1" lane_status=0 workspace listing started
  local -a files
  for workspace in $WORKSPACES; do
    if ! listing=$(node scripts/test-lanes.mjs "$workspace" "$lane"); then
      progress "$lane lane: $workspace: its test files could not be listed"
      lane_status=1
      continue
    fi
    mapfile -t files <<<"$listing"
    [ -n "$listing" ] || continue
    started=$SECONDS
    progress "$lane lane: $workspace (${#files[@]} files)"
    # The host lane's files share one Docker daemon: one at a time on any machine (vitest would
    # otherwise run cores - 1 files at once).
    local -a one_at_a_time=()
    [ "$lane" = host ] && one_at_a_time=(--maxWorkers=1 --no-file-parallelism)
    if ! (cd "$workspace" && npx vitest run --reporter=default --reporter=json \
      --outputFile="$RESULTS/$(echo "$workspace" | tr / -)-$lane.json" \
      ${one_at_a_time[@]+"${one_at_a_time[@]}"} "${files[@]}"); then
      lane_status=1
    fi
    progress "$lane lane: $workspace done in $((SECONDS - started)) s"
  done
  return $lane_status
}

# The lanes (scripts/test-lanes.mjs) run side by side: the host lane waits on Ansible and
# containers most of its time, which the rest lane's tests fill. Each writes its own log, printed
# whole once both are done.
status=0
run_lane host 3>&1 >"$LOGS/host.log" 2>&1 &
host_pid=$!
run_lane rest 3>&1 >"$LOGS/rest.log" 2>&1 &
rest_pid=$!
wait "$rest_pid" || status=1
wait "$host_pid" || status=1
for lane in rest host; do
  step "Tests: $lane lane"
  cat "$LOGS/$lane.log"
done

node scripts/summarize-tests.mjs "$RESULTS"
exit $status
