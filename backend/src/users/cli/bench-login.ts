import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { DataKey } from '../../crypto/data-key';
import { PasswordHasher } from '../../crypto/password-hasher';
import { UserKeys } from '../user-keys';

/**
 * `npm run bench:login`: the password work of one login (check the password, unwrap the data
 * key) for a record of the legacy scheme (two scrypt derivations) and of the current one (one
 * derivation split by HKDF), 10 logins each, alternating so that other load on a shared machine
 * hits both alike. Target: the current median ≤ 0.55 × the legacy one. The rest of a login
 * (a few database rows, a token) is the same for both and takes milliseconds.
 */
const LOGINS = 10;
const TARGET_RATIO = 0.55;

interface Sample {
  wallMs: number;
  cpuMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return (sorted[Math.floor(middle - 0.5)]! + sorted[Math.ceil(middle - 0.5)]!) / 2;
}

async function measure(login: () => Promise<unknown>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  if (!(await login())) throw new Error('the benchmark password did not unlock its record');
  const used = process.cpuUsage(cpu);
  return {
    wallMs: Number(process.hrtime.bigint() - started) / 1e6,
    cpuMs: (used.user + used.system) / 1000,
  };
}

async function main(): Promise<void> {
  const keys = new UserKeys(new PasswordHasher());
  const password = 'correct horse battery staple';
  const dataKey = DataKey.generate();
  const [legacyId, currentId] = [randomUUID(), randomUUID()];
  const legacy = {
    id: legacyId,
    ...(await keys.sealLegacy({ id: legacyId }, dataKey, password, 1)),
  };
  const current = { id: currentId, ...(await keys.seal({ id: currentId }, dataKey, password, 1)) };

  const samples: Record<'legacy' | 'current', Sample[]> = { legacy: [], current: [] };
  for (let i = 0; i < LOGINS; i++) {
    samples.legacy.push(await measure(() => keys.open(legacy, password)));
    samples.current.push(await measure(() => keys.open(current, password)));
  }

  const summary = (label: string, list: Sample[]) => {
    const wall = median(list.map((s) => s.wallMs));
    const cpu = median(list.map((s) => s.cpuMs));
    console.log(
      `${label.padEnd(44)}${wall.toFixed(0).padStart(8)} ms wall${cpu.toFixed(0).padStart(8)} ms CPU`,
    );
    return { wall, cpu };
  };
  console.log(`login password work, median of ${LOGINS} each (load ${loadavg()[0]!.toFixed(2)})`);
  const old = summary('legacy: scrypt hash + scrypt KEK', samples.legacy);
  const now = summary('current: one scrypt, HKDF verifier + KEK', samples.current);
  const wallRatio = now.wall / old.wall;
  const cpuRatio = now.cpu / old.cpu;
  console.log(
    `ratio current/legacy: ${wallRatio.toFixed(2)} wall, ${cpuRatio.toFixed(2)} CPU (target ≤ ${TARGET_RATIO})`,
  );
  if (wallRatio > TARGET_RATIO) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
