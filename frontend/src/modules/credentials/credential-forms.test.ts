import { describe, expect, it } from 'vitest';
import { initialValues, storageTestSummary, toRequestBody } from './credential-forms';

/** What the request sends: undefined members are left out of the JSON body. */
const sent = (body: unknown) => JSON.parse(JSON.stringify(body));

describe('toRequestBody', () => {
  it('leaves blank optional fields to the API defaults and sends the port as a number', () => {
    const values = { host: ' 192.0.2.10 ', port: '', username: 'ubuntu', auth: 'generated-key' };
    expect(sent(toRequestBody('ssh-host', 'pi', values))).toEqual({
      type: 'ssh-host',
      name: 'pi',
      host: '192.0.2.10',
      username: 'ubuntu',
      auth: 'generated-key',
    });
    expect(sent(toRequestBody('ssh-host', 'pi', { ...values, port: '2222' })).port).toBe(2222);
  });

  it('sends the private key only when the user uploads one', () => {
    const values = { host: 'h', username: 'u', auth: 'generated-key', privateKey: 'KEY' };
    expect(sent(toRequestBody('ssh-host', 'pi', values))).not.toHaveProperty('privateKey');
    expect(
      sent(toRequestBody('ssh-host', 'pi', { ...values, auth: 'uploaded-key' })),
    ).toMatchObject({ auth: 'uploaded-key', privateKey: 'KEY' });
  });

  it('builds an OpenStack body without the optional domain and region', () => {
    const values = { authUrl: 'https://k/v3', username: 'u', password: 'p', projectName: 'x' };
    expect(sent(toRequestBody('openstack', 'os', values))).toEqual({
      type: 'openstack',
      name: 'os',
      ...values,
    });
  });
});

describe('s3 credentials', () => {
  const values = {
    endpoint: ' http://127.0.0.1:9000 ',
    region: 'us-east-1',
    bucket: 'backups',
    prefix: '',
    accessKeyId: 'AKIA',
    secretAccessKey: 'SECRET',
    ...initialValues('s3'),
  };

  it('sends path-style addressing by default and leaves a blank prefix out', () => {
    expect(sent(toRequestBody('s3', 'bucket', values))).toEqual({
      type: 's3',
      name: 'bucket',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      bucket: 'backups',
      accessKeyId: 'AKIA',
      secretAccessKey: 'SECRET',
      pathStyle: true,
    });
  });

  it('sends virtual-host addressing and a prefix when chosen', () => {
    expect(
      sent(toRequestBody('s3', 'aws', { ...values, pathStyle: 'virtual-host', prefix: 'fs/' })),
    ).toMatchObject({ pathStyle: false, prefix: 'fs/' });
  });

  it('summarises a storage test: success, or the failed step with the service message', () => {
    expect(
      storageTestSummary({
        type: 's3',
        ok: true,
        message: 'Wrote, read back and deleted s3://b/k',
        durationMs: 420,
      }),
    ).toBe('Connected in 0.4 s. Wrote, read back and deleted s3://b/k.');
    expect(
      storageTestSummary({
        type: 's3',
        ok: false,
        failedStep: 'write',
        code: 'BUCKET_NOT_FOUND',
        message: 'NoSuchBucket (HTTP 404): The specified bucket does not exist',
        durationMs: 80,
      }),
    ).toBe(
      'Failed writing a test object (BUCKET_NOT_FOUND): NoSuchBucket (HTTP 404): The specified bucket does not exist',
    );
    expect(
      storageTestSummary({ type: 's3', ok: false, message: 'connect ECONNREFUSED', durationMs: 5 }),
    ).toBe('Failed: connect ECONNREFUSED');
  });
});
