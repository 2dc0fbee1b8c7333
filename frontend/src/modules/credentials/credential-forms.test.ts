import { describe, expect, it } from 'vitest';
import { toRequestBody } from './credential-forms';

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
