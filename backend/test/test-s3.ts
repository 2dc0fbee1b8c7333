import { S3Client } from '@aws-sdk/client-s3';

/** The S3-compatible test server that scripts/services/s3.sh starts (s3rver). */
export interface TestS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
}

export function testS3(): TestS3 {
  const read = (name: string) => {
    const value = process.env[name];
    if (!value) {
      throw new Error(
        `${name} is not set: run the tests with \`npm test\` (it starts the services)`,
      );
    }
    return value;
  };
  return {
    endpoint: read('FS_TEST_S3_ENDPOINT'),
    region: read('FS_TEST_S3_REGION'),
    accessKeyId: read('FS_TEST_S3_ACCESS_KEY'),
    secretAccessKey: read('FS_TEST_S3_SECRET_KEY'),
    bucket: read('FS_TEST_S3_BUCKET'),
  };
}

/** The body that stores the test server as an `s3` credential, under its own prefix. */
export function s3CredentialBody(name: string, prefix: string, overrides: object = {}) {
  const s3 = testS3();
  return {
    type: 's3',
    name,
    endpoint: s3.endpoint,
    region: s3.region,
    bucket: s3.bucket,
    prefix,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    pathStyle: true,
    ...overrides,
  };
}

/** A client of the test server as its administrator, to look at what the code under test left. */
export function testS3Client(): S3Client {
  const s3 = testS3();
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
}
