// Splits every workspace's test files into two lanes that scripts/test.sh runs side by side:
//   host: files that run platform stacks on a Docker daemon of the test SSH host. They publish
//         host ports and load images into one daemon, and each costs minutes of waiting on
//         Ansible and containers, so they run one at a time.
//   rest: everything else (unit, HTTP, browser and service tests), one at a time beside them.
// A file belongs to the host lane when its text names one of the helpers that reach that daemon,
// so a new launch test lands there without a list to keep up to date.
// Usage: node scripts/test-lanes.mjs <workspace dir> <host|rest>  → one path per line.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

const HOST_DAEMON_USE =
  /\b(testDockerHost|FS_TEST_DOCKER_HOST|launchOnTestHost|startLaunchOnTestHost|testHostEnv|OwnDockerd)\b|launched-platform'|test-platform-host'|own-dockerd'/;

const [workspace, lane] = process.argv.slice(2);
if (!workspace || !['host', 'rest'].includes(lane)) {
  console.error('usage: node scripts/test-lanes.mjs <workspace dir> <host|rest>');
  process.exit(2);
}
const dir = resolve(workspace);
const listed = JSON.parse(
  execFileSync('npx', ['vitest', 'list', '--filesOnly', '--json'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }),
);
for (const { file } of listed) {
  const usesHostDaemon = HOST_DAEMON_USE.test(readFileSync(file, 'utf8'));
  if (usesHostDaemon === (lane === 'host')) console.log(relative(dir, file));
}
