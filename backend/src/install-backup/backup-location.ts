import { S3Client } from '@aws-sdk/client-s3';

/** `s3://bucket/key-or-prefix`, or undefined for a local file path. */
export function parseS3Url(value: string): { bucket: string; key: string } | undefined {
  if (!value.startsWith('s3://')) return undefined;
  const rest = value.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = slash < 0 ? '' : rest.slice(slash + 1);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new Error(`"${bucket}" is not a bucket name (s3://bucket/prefix)`);
  }
  return { bucket, key };
}

/**
 * The bucket's client. Credentials and region come from the AWS SDK's usual sources
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_REGION, or ~/.aws); BACKUP_S3_ENDPOINT and
 * BACKUP_S3_PATH_STYLE=true point it at another S3-compatible service (MinIO, B2, Ceph…).
 */
export function backupS3Client(env: NodeJS.ProcessEnv): S3Client {
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    endpoint: env.BACKUP_S3_ENDPOINT || undefined,
    forcePathStyle: env.BACKUP_S3_PATH_STYLE === 'true',
  });
}

/** The object key of a new backup under `prefix`. */
export function backupObjectKey(prefix: string, now: Date): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  return `${folder}fieldstation-install-${stamp}.fsbackup`;
}
