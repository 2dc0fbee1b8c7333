import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('uses embedded defaults: port 8080, SQLite in ./data, a local Redis, tofu', () => {
    const config = loadConfig({}, '/srv/fs');
    expect(config.port).toBe(8080);
    expect(config.dataDir).toBe('/srv/fs/data');
    expect(config.database).toEqual({ type: 'sqlite', path: '/srv/fs/data/fieldstation.sqlite' });
    expect(config.redisUrl).toBeUndefined();
    expect(config.terraformBin).toBeUndefined();
  });

  it('accepts a PostgreSQL URL and a relative sqlite path under the data dir', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db/fs' }).database).toEqual({
      type: 'postgres',
      url: 'postgres://u@db/fs',
    });
    expect(loadConfig({ DATABASE_URL: 'sqlite:x.db', DATA_DIR: '/d' }).database).toEqual({
      type: 'sqlite',
      path: '/d/x.db',
    });
  });

  it.each([
    [{ PORT: 'abc' }, /^Invalid configuration: PORT must be a number \(got "abc"\)$/],
    [{ PORT: '70000' }, /PORT must be between 1 and 65535/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must start with redis:\/\//],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be sqlite:<file> or postgres/],
    [{ IMAGE_SUPPLY: 'ftp' }, /IMAGE_SUPPLY must be registry or offline/],
    [{ IMAGE_SUPPLY: 'offline' }, /IMAGE_ARCHIVES must list the image tarballs/],
    [{ STACK_IMAGES: '{"rabbitmq":' }, /STACK_IMAGES must be a JSON object of image references/],
    [{ RESTORE_UPLOAD_MAX_MB: '0' }, /RESTORE_UPLOAD_MAX_MB must be at least 1/],
    [{ RESTORE_UPLOAD_QUOTA_MB: '1.5' }, /RESTORE_UPLOAD_QUOTA_MB must be a whole number of MB/],
  ])('rejects %o with a one-line message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes a password in a URL it refuses', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://fs:S3cretPw@db/x' })).toThrow(
      'DATABASE_URL must be sqlite:<file> or postgres://… (got "mysql://fs:***@db/x")',
    );
    expect(() => loadConfig({ REDIS_URL: 'http://u:S3cretPw@r:6379' })).not.toThrow(/S3cretPw/);
  });

  it('never echoes the server secret in its error', () => {
    expect(() => loadConfig({ FIELDSTATION_SECRET: 'short-secret-value' })).toThrow(
      /^Invalid configuration: FIELDSTATION_SECRET must be at least 32 characters$/,
    );
  });

  it('trusts no proxy by default; TRUST_PROXY takes a hop count or proxy addresses', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::1' }).trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::1',
    ]);
    // `true` would believe any client's X-Forwarded-For, and so its choice of rate-limit key.
    for (const value of ['true', '0', '10.0.0.0/33', 'proxy.example.org']) {
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(
        /^Invalid configuration: TRUST_PROXY must be false, a hop count/,
      );
    }
  });

  it('pulls images from registries by default, or ships the listed tarballs', () => {
    expect(loadConfig({}).imageSupply).toEqual({ source: 'registry' });
    expect(
      loadConfig({ IMAGE_SUPPLY: 'offline', IMAGE_ARCHIVES: 'a.tar, /b/c.tar' }, '/srv')
        .imageSupply,
    ).toEqual({ source: 'offline', archives: ['/srv/a.tar', '/b/c.tar'] });
  });

  it('caps restore uploads at 20 GB (the default data volume) per upload and per user', () => {
    const defaults = loadConfig({});
    expect(defaults.restoreUploadMaxBytes).toBe(20 * 1024 ** 3);
    expect(defaults.restoreUploadQuotaBytes).toBe(20 * 1024 ** 3);
    const set = loadConfig({ RESTORE_UPLOAD_MAX_MB: '512', RESTORE_UPLOAD_QUOTA_MB: '2048' });
    expect(set.restoreUploadMaxBytes).toBe(512 * 1024 ** 2);
    expect(set.restoreUploadQuotaBytes).toBe(2048 * 1024 ** 2);
  });

  it('checks health (and samples metrics) every minute unless HEALTH_CHECK_INTERVAL_SECONDS says', () => {
    expect(loadConfig({}).healthCheckIntervalSeconds).toBe(60);
    expect(loadConfig({ HEALTH_CHECK_INTERVAL_SECONDS: '10' }).healthCheckIntervalSeconds).toBe(10);
    expect(() => loadConfig({ HEALTH_CHECK_INTERVAL_SECONDS: '0' })).toThrow(
      'Invalid configuration: HEALTH_CHECK_INTERVAL_SECONDS must be between 10 and 300 (got "0")',
    );
  });

  it('keeps files in the data dir by default, or in the S3 bucket FILE_STORE_S3_* name', () => {
    expect(loadConfig({}).fileStore).toEqual({ type: 'local' });
    const s3 = {
      FILE_STORE: 's3',
      FILE_STORE_S3_ENDPOINT: 'https://s3.example.net',
      FILE_STORE_S3_BUCKET: 'fs-files',
      FILE_STORE_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      FILE_STORE_S3_SECRET_ACCESS_KEY: 'file-store-secret-value',
    };
    expect(loadConfig({ ...s3, FILE_STORE_S3_PATH_STYLE: 'true' }).fileStore).toEqual({
      type: 's3',
      endpoint: 'https://s3.example.net',
      region: 'us-east-1',
      bucket: 'fs-files',
      prefix: '',
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'file-store-secret-value',
      forcePathStyle: true,
    });
    expect(() => loadConfig({ ...s3, FILE_STORE_S3_BUCKET: '' })).toThrow(
      /^Invalid configuration: FILE_STORE_S3_BUCKET is required when FILE_STORE is s3$/,
    );
    expect(() => loadConfig({ ...s3, FILE_STORE_S3_ENDPOINT: 'ftp://x' })).toThrow(
      /FILE_STORE_S3_ENDPOINT must be an http\(s\) URL/,
    );
    expect(() => loadConfig({ ...s3, FILE_STORE_S3_PREFIX: '../x' })).toThrow(
      /FILE_STORE_S3_PREFIX/,
    );
    expect(() => loadConfig({ ...s3, FILE_STORE_S3_SECRET_ACCESS_KEY: '' })).toThrow(
      /FILE_STORE_S3_SECRET_ACCESS_KEY is required/,
    );
  });
});
