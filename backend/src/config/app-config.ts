import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';

/** Fully validated configuration; everything else reads settings from here, never from process.env. */
export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  database: { type: 'sqlite'; path: string } | { type: 'postgres'; url: string };
  /** Unset means: start and supervise a private redis-server under the data dir. */
  redisUrl: string | undefined;
  /** Unset means: a key is generated into the data dir on first start. */
  serverSecret: string | undefined;
  terraformBin: string;
  frontendDir: string;
}

export class ConfigError extends Error {}

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const schema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:<file> or postgres://…')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, 'must start with redis:// or rediss://')
    .optional(),
  FIELDSTATION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  TERRAFORM_BIN: z.string().min(1).default('tofu'),
  FRONTEND_DIR: z.string().min(1).optional(),
});

/** Reads and validates the environment; throws a ConfigError whose message names the variable. */
export function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): AppConfig {
  const present = Object.fromEntries(
    Object.keys(schema.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    const shown = name === 'FIELDSTATION_SECRET' ? '' : ` (got "${String(present[name])}")`;
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}${shown}`);
  }
  const values = parsed.data;
  const dataDir = resolve(cwd, values.DATA_DIR);
  return {
    port: values.PORT,
    host: values.HOST,
    dataDir,
    database: parseDatabaseUrl(values.DATABASE_URL, dataDir),
    redisUrl: values.REDIS_URL,
    serverSecret: values.FIELDSTATION_SECRET,
    terraformBin: values.TERRAFORM_BIN,
    frontendDir: resolve(cwd, values.FRONTEND_DIR ?? join(__dirname, '../../../frontend/dist')),
  };
}

function parseDatabaseUrl(url: string | undefined, dataDir: string): AppConfig['database'] {
  if (url === undefined) return { type: 'sqlite', path: join(dataDir, 'fieldstation.sqlite') };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    return { type: 'sqlite', path: isAbsolute(path) ? path : resolve(dataDir, path) };
  }
  return { type: 'postgres', url };
}
