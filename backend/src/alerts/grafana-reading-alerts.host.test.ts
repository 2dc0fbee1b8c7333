import { existsSync, readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  deploymentEnd,
  destroyLaunched,
  startLaunchOnTestHost,
  type LaunchedPlatform,
} from '../../test/launched-platform';
import { readSse, type SseEvent } from '../../test/sse';
import { freeLoopbackPort } from '../common/free-port';
import type { AlertRuleDto } from './dto/alert-rule.dto';

type ProvisioningFile = {
  apiVersion: number;
  groups?: {
    rules: { uid: string; title: string; for: string; data: { model: { query?: string } }[] }[];
  }[];
  deleteRules?: { orgId: number; uid: string }[];
};
type Reload = { at: string; authorized: boolean; file: string | null };

const uidOf = (ruleId: string) => `fs-${ruleId.replace(/-/g, '')}`;

/**
 * Reading thresholds on a platform launched on the local test SSH host (InfluxDB). Grafana cannot
 * run here: its STAND-IN image answers the alerting reload with Grafana's admin login check and
 * records each call with the provisioning file it sees then; nothing evaluates the rules.
 */
describe('Grafana reading alerts on a launched platform', () => {
  let launched: LaunchedPlatform | undefined;
  let stackDir: string;
  let reloadsFile: string;
  let grafanaPort: number;
  let launchRule: AlertRuleDto;

  const provisioning = () => {
    const path = `${stackDir}/grafana/provisioning/alerting/fieldstation-readings.yaml`;
    const stat = statSync(path);
    const text = readFileSync(path, 'utf8');
    return {
      text,
      file: parse(text) as ProvisioningFile,
      owner: stat.uid,
      mode: stat.mode & 0o777,
    };
  };
  const reloads = (): Reload[] =>
    existsSync(reloadsFile)
      ? readFileSync(reloadsFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as Reload)
      : [];

  beforeAll(async () => {
    grafanaPort = await freeLoopbackPort();
    const started = await startLaunchOnTestHost('grafana-alerts', {
      name: 'grafana-alerts',
      database: 'influxdb',
      tls: false,
      ports: {
        amqp: await freeLoopbackPort(),
        mqtt: null,
        rabbitmqManagement: await freeLoopbackPort(),
        grafana: grafanaPort,
      },
    });
    launched = started.launched;
    const { api, platformId } = launched;
    stackDir = `/srv/fieldstation/platforms/${platformId}/stack`;
    reloadsFile = `/srv/fieldstation/platforms/${platformId}/data/grafana/stand-in-alerting-reloads.jsonl`;
    // Made while the platform launches: stored without a deployment, rendered by the launch.
    const created = await api.post<AlertRuleDto>(`/platforms/${platformId}/alert-rules`, {
      kind: 'reading-threshold',
      measurement: 'room',
      field: 'temperature',
      operator: '>',
      threshold: 30,
      minutes: 5,
    });
    expect(created.status).toBe(201);
    expect(created.body.deploymentId).toBeUndefined();
    launchRule = created.body;
    const launch = await deploymentEnd(api, started.deploymentId, 900_000, 'the launch');
    expect(launch, `the launch failed: ${launch.error}`).toMatchObject({ status: 'succeeded' });
  }, 960_000);
  afterAll(async () => {
    await destroyLaunched(launched);
  }, 360_000);

  it('renders the rules at launch, then writes each change to the host and makes Grafana reload it with the admin login', async () => {
    const { api, platformId } = launched!;
    const atLaunch = provisioning();
    expect([atLaunch.owner, atLaunch.mode]).toEqual([0, 0o644]);
    expect(atLaunch.file.groups![0]!.rules.map((rule) => rule.uid)).toEqual([uidOf(launchRule.id)]);
    // Grafana reads its provisioning when it starts: no reload at launch.
    expect(reloads()).toEqual([]);

    const added = await api.post<AlertRuleDto>(`/platforms/${platformId}/alert-rules`, {
      kind: 'reading-threshold',
      measurement: 'soil',
      field: 'moisture',
      operator: '<=',
      threshold: 12.5,
      minutes: 0,
    });
    expect(added.status).toBe(201);
    const applied = await deploymentEnd(api, added.body.deploymentId!, 300_000, 'the change');
    expect(applied, `the change failed: ${applied.error}`).toMatchObject({ status: 'succeeded' });
    const afterAdd = provisioning();
    expect([afterAdd.owner, afterAdd.mode]).toEqual([0, 0o644]);
    const rules = afterAdd.file.groups![0]!.rules;
    expect(rules.map((rule) => rule.uid)).toEqual([uidOf(launchRule.id), uidOf(added.body.id)]);
    expect(rules[1]!.title).toBe(
      `soil.moisture <= 12.5 for 0 min (any device) #${uidOf(added.body.id).slice(3, 11)}`,
    );
    expect(rules[1]!.for).toBe('0m');
    expect(rules[1]!.data[0]!.model.query).toContain('SELECT mean("moisture") FROM "soil"');
    // The reload came with the admin login, and Grafana's mount showed it the new file.
    expect(reloads()).toEqual([{ at: expect.any(String), authorized: true, file: afterAdd.text }]);

    const removed = await api.delete(`/platforms/${platformId}/alert-rules/${launchRule.id}`);
    expect(removed.status).toBe(204);
    const deployments = await api.get<{ id: string; action: string }[]>(
      `/deployments?targetId=${platformId}`,
    );
    const removal = deployments.body.find(
      (deployment) =>
        deployment.action === 'reading-alerts' && deployment.id !== added.body.deploymentId,
    )!;
    const end = await deploymentEnd(api, removal.id, 300_000, 'the removal');
    expect(end, `the removal failed: ${end.error}`).toMatchObject({ status: 'succeeded' });
    const afterRemove = provisioning();
    expect(afterRemove.file.groups![0]!.rules.map((rule) => rule.uid)).toEqual([
      uidOf(added.body.id),
    ]);
    expect(afterRemove.file.deleteRules).toEqual([{ orgId: 1, uid: uidOf(launchRule.id) }]);
    expect(reloads().map((reload) => [reload.authorized, reload.file])).toEqual([
      [true, afterAdd.text],
      [true, afterRemove.text],
    ]);

    // The admin password reached Grafana, never the deployment's log.
    const adminPassword = /^FIELDSTATION_GRAFANA_ADMIN_PASSWORD=(.+)$/m.exec(
      readFileSync(`${stackDir}/.env`, 'utf8'),
    )![1]!;
    const events: SseEvent[] = [];
    const log = await fetch(`${api.baseUrl}/api/v1/deployments/${removal.id}/events`, {
      headers: { authorization: `Bearer ${api.accessToken}` },
    });
    await readSse(log, (event) => {
      events.push(event);
      return event.event === 'end';
    });
    const logText = JSON.stringify(events);
    expect(logText).toContain('Make Grafana reload its alerting provisioning');
    expect(logText).toContain('Grafana evaluates 1 reading threshold');
    expect(logText).not.toContain(adminPassword);

    // The stand-in checks the login as Grafana does: a wrong password is a 401, recorded.
    const wrong = await fetch(
      `http://127.0.0.1:${grafanaPort}/api/admin/provisioning/alerting/reload`,
      {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` },
      },
    );
    expect(wrong.status).toBe(401);
    expect(reloads().at(-1)).toMatchObject({ authorized: false, file: null });
  }, 900_000);
});
