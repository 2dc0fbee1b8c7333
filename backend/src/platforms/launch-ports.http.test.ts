import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiClient,
  finishedDeployment,
  sshHostCredential,
  type ErrorBody,
} from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { freeLoopbackPort } from '../common/free-port';

type Accepted = {
  platform: { id: string; name: string; ports: Record<string, number | null> };
  deploymentId: string;
};
type FieldProblem = { field: string; problems: string[] };

describe('Launch ports (running API, SQLite, Redis)', () => {
  let app: INestApplication;
  let baseUrl: string;
  let closedPort: number;

  beforeAll(async () => {
    // Nothing listens there: launches stay on record (failed at waiting_for_host), holding ports.
    closedPort = await freeLoopbackPort();
    ({ app, baseUrl } = await startTestApp({ env: { SSH_WAIT_SECONDS: '1' } }));
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers 400 naming both fields when two services of a launch share a port', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('same-port');
    const credentialId = await sshHostCredential(api, closedPort);
    const launch = (body: object) =>
      api.post<ErrorBody>('/platforms', { target: 'ssh-host', credentialId, tls: false, ...body });

    const explicit = await launch({ name: 'twins', ports: { amqp: 1884, mqtt: 1884 } });
    expect(explicit.status).toBe(400);
    expect(explicit.body.error).toMatchObject({
      code: 'DUPLICATE_PORT',
      message: 'ports.amqp and ports.mqtt are both 1884: each service needs its own port',
    });
    expect((explicit.body.error.details as FieldProblem[]).map((d) => d.field)).toEqual([
      'ports.amqp',
      'ports.mqtt',
    ]);
    // One given port against another service's default port counts the same.
    const onDefault = await launch({ name: 'twins', ports: { grafana: 1883 } });
    expect(onDefault.status).toBe(400);
    expect(onDefault.body.error.message).toBe(
      'ports.mqtt and ports.grafana are both 1883: each service needs its own port',
    );
    expect((await api.get<unknown[]>('/platforms')).body).toEqual([]);
  });

  it('answers 409 naming the port and the platform that holds it on the same SSH host', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('one-host');
    const credentialId = await sshHostCredential(api, closedPort);
    // Another credential for the same login target: still the same host.
    const sameHostId = await sshHostCredential(api, closedPort, 'pi-again');
    const launch = (body: object) =>
      api.post<ErrorBody & Accepted>('/platforms', { target: 'ssh-host', ...body });

    const first = await launch({ name: 'first', credentialId });
    expect(first.status).toBe(202);
    // An SSH host has no data volume of Fieldstation's making: no size to show.
    expect(first.body.platform).toMatchObject({ dataVolumeGb: null });

    const second = await launch({ name: 'second', credentialId: sameHostId });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({
      code: 'PORT_IN_USE',
      message:
        'Port 5671 (ports.amqps) is already used on 127.0.0.1 by platform "first" (its amqps); choose another port',
      details: [
        {
          field: 'ports.amqps',
          port: 5671,
          platform: { id: first.body.platform.id, name: 'first', port: 'amqps' },
        },
      ],
    });
    const management = await launch({
      name: 'second',
      credentialId,
      ports: { amqps: 5681, mqtts: 8893, grafana: 3010 },
    });
    expect(management.status).toBe(409);
    expect(management.body.error.message).toMatch(
      /^Port 15672 \(ports.rabbitmqManagement\) .*"first"/,
    );
    expect((await api.get<unknown[]>('/platforms')).body).toHaveLength(1);

    const freePorts = { amqps: 5681, mqtts: 8893, rabbitmqManagement: 15682, grafana: 3010 };
    const accepted = await launch({ name: 'second', credentialId, ports: freePorts });
    expect(accepted.status).toBe(202);
    expect(accepted.body.platform.ports).toMatchObject(freePorts);

    // Another SSH target (another port of this address is another machine's sshd here).
    const elsewhere = await launch({
      name: 'third',
      credentialId: await sshHostCredential(api, await freeLoopbackPort(), 'elsewhere'),
    });
    expect(elsewhere.status).toBe(202);
    for (const { body } of [first, accepted, elsewhere]) {
      expect(await finishedDeployment(api, body.deploymentId)).toMatchObject({ status: 'failed' });
    }
  }, 120_000);
});
