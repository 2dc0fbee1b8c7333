import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { ResolvedCredential } from './credentials.service';

/** Where an opened `s3` credential stores: its bucket and key prefix. */
export interface S3Location {
  bucket: string;
  /** '' or ending in '/'. */
  prefix: string;
}

/** A client for an opened `s3` credential; `maxAttempts: 1` for a user waiting on an answer. */
export function s3ClientFor(
  credential: ResolvedCredential,
  options: { maxAttempts?: number } = {},
): S3Client {
  const { fields, secrets } = credential;
  return new S3Client({
    endpoint: String(fields.endpoint),
    region: String(fields.region),
    forcePathStyle: fields.pathStyle !== false,
    credentials: {
      accessKeyId: secrets.accessKeyId!,
      secretAccessKey: secrets.secretAccessKey!,
    },
    maxAttempts: options.maxAttempts ?? 3,
    // An unreachable endpoint fails in seconds, not after the OS's TCP timeout.
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    // Checksums only where S3 requires them: several S3-compatible services reject the newer
    // default CRC32 trailers. Integrity is proven by the backup's own SHA-256 read-back.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function s3LocationOf(credential: ResolvedCredential): S3Location {
  const prefix = String(credential.fields.prefix ?? '');
  return {
    bucket: String(credential.fields.bucket),
    prefix: prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix,
  };
}

/** A failure named the way a user can act on it, with the storage service's own message. */
export interface StorageFailure {
  code:
    | 'BAD_ACCESS_KEY'
    | 'BAD_SECRET_KEY'
    | 'BUCKET_NOT_FOUND'
    | 'ACCESS_DENIED'
    | 'UNREACHABLE'
    | 'STORAGE_ERROR';
  message: string;
}

const SERVICE_CODES: Record<string, StorageFailure['code']> = {
  InvalidAccessKeyId: 'BAD_ACCESS_KEY',
  SignatureDoesNotMatch: 'BAD_SECRET_KEY',
  NoSuchBucket: 'BUCKET_NOT_FOUND',
  AccessDenied: 'ACCESS_DENIED',
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'TimeoutError',
]);

/** What went wrong talking to the storage service; never includes a secret (the SDK's don't). */
export function storageFailureOf(error: unknown): StorageFailure {
  if (error instanceof S3ServiceException) {
    const status = error.$metadata?.httpStatusCode;
    const code = SERVICE_CODES[error.name] ?? 'STORAGE_ERROR';
    return {
      code,
      message: `${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`,
    };
  }
  const networkCode = (error as { code?: string; name?: string } | null)?.code;
  const name = (error as { name?: string } | null)?.name;
  if ((networkCode && NETWORK_CODES.has(networkCode)) || (name && NETWORK_CODES.has(name))) {
    return {
      code: 'UNREACHABLE',
      message:
        `The storage endpoint did not answer: ${networkCode ?? name} ${(error as Error).message}`.trim(),
    };
  }
  return { code: 'STORAGE_ERROR', message: (error as Error)?.message ?? String(error) };
}
