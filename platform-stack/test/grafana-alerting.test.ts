import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  READING_ALERTS_STACK_PATH,
  READING_ALERT_VALUE_LIMIT,
  InvalidReadingAlertError,
  createStackSpec,
  generateStackSecrets,
  grafanaText,
  renderReadingAlertsFile,
  renderStack,
  type ReadingAlertRule,
} from '../src';

// Grafana cannot run here: the file is parsed back and checked against the provisioning format
// (apiVersion 1, groups → rules with uid, title, condition, data, for, labels, annotations).
const temperature: ReadingAlertRule = {
  id: '6f1c2d3e-4a5b-4c6d-8e7f-001122334455',
  measurement: 'room',
  field: 'temperature',
  operator: '>',
  value: 30,
  forMinutes: 5,
};
const onePi: ReadingAlertRule = {
  id: '0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3',
  measurement: 'soil',
  field: 'probe.moisture',
  operator: '<=',
  value: -2.5,
  forMinutes: 0,
  device: 'pi-7',
};

interface ProvisionedRule {
  uid: string;
  title: string;
  condition: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  noDataState: string;
  execErrState: string;
  data: {
    refId: string;
    datasourceUid: string;
    relativeTimeRange: { from: number; to: number };
    model: Record<string, unknown>;
  }[];
}

const parsed = (text: string) =>
  parse(text) as {
    apiVersion: number;
    groups?: {
      orgId: number;
      name: string;
      folder: string;
      interval: string;
      rules: ProvisionedRule[];
    }[];
    deleteRules?: { orgId: number; uid: string }[];
  };

describe('grafana alerting provisioning for reading thresholds', () => {
  it.each(['influxdb', 'postgres', 'timescaledb'] as const)(
    'renders every required key and a %s query per rule',
    (database) => {
      const file = parsed(renderReadingAlertsFile(database, [temperature, onePi]));
      expect(file.apiVersion).toBe(1);
      expect(file.groups).toHaveLength(1);
      const group = file.groups![0]!;
      expect(group).toMatchObject({
        orgId: 1,
        name: 'readings',
        folder: 'Fieldstation',
        interval: '60s',
      });
      const [first, second] = group.rules;
      expect(first!.uid).toBe('fs-6f1c2d3e4a5b4c6d8e7f001122334455');
      expect(first!.uid.length).toBeLessThanOrEqual(40);
      expect(first!.title).toBe('room.temperature > 30 for 5 min (any device) #6f1c2d3e');
      expect(second!.title).toBe('soil.probe.moisture <= -2.5 for 0 min (device pi-7) #0a1b2c3d');
      expect(first!.condition).toBe('C');
      expect(first!.for).toBe('5m');
      expect(second!.for).toBe('0m');
      expect(first!.noDataState).toBe('NoData');
      expect(first!.execErrState).toBe('Error');
      expect(first!.labels).toEqual({
        fieldstation_rule: temperature.id,
        measurement: 'room',
        field: 'temperature',
      });
      expect(second!.labels.device).toBe('pi-7');
      expect(first!.annotations.summary).toContain('room.temperature > 30 for 5 min on any device');
      expect(first!.data.map((query) => query.refId)).toEqual(['A', 'B', 'C']);
      const [query, reduce, threshold] = first!.data;
      expect(query!.datasourceUid).toBe('fieldstation-telemetry');
      expect(query!.relativeTimeRange).toEqual({ from: 600, to: 0 });
      expect(reduce!.model).toMatchObject({ type: 'reduce', expression: 'A', reducer: 'last' });
      expect(threshold!.datasourceUid).toBe('__expr__');
      expect(threshold!.model).toMatchObject({ type: 'math', expression: '$B > 30' });
      expect(second!.data[2]!.model.expression).toBe('$B <= -2.5');

      const oneDevice = second!.data[0]!.model;
      if (database === 'influxdb') {
        expect(query!.model).toMatchObject({ rawQuery: true, resultFormat: 'time_series' });
        expect(query!.model.query).toBe(
          'SELECT mean("temperature") FROM "room" WHERE $timeFilter GROUP BY time(1m), "device" fill(none)',
        );
        expect(oneDevice.query).toBe(
          `SELECT mean("probe.moisture") FROM "soil" WHERE $timeFilter AND "device" = 'pi-7' GROUP BY time(1m), "device" fill(none)`,
        );
      } else {
        expect(query!.model).toMatchObject({
          rawQuery: true,
          format: 'time_series',
          editorMode: 'code',
        });
        expect(query!.model.rawSql).toContain("jsonb_typeof(data #> '{temperature}') = 'number'");
        expect(query!.model.rawSql).toContain(
          "FROM readings WHERE $__timeFilter(time) AND measurement = 'room'\n",
        );
        expect(oneDevice.rawSql).toContain("data #>> '{probe,moisture}'");
        expect(oneDevice.rawSql).toContain("AND measurement = 'soil' AND device = 'pi-7'");
      }
    },
  );

  it('gives rules differing only in hold time, or not at all, distinct titles (Grafana refuses duplicates in a folder)', () => {
    const longer = { ...temperature, id: '7a2b3c4d-5e6f-4a7b-8c9d-aabbccddeeff', forMinutes: 10 };
    const same = { ...temperature, id: '8b3c4d5e-6f70-4b8c-9dae-bbccddeeff00' };
    const titles = parsed(
      renderReadingAlertsFile('influxdb', [temperature, longer, same]),
    ).groups![0]!.rules.map((rule) => rule.title);
    expect(new Set(titles).size).toBe(3);
    expect(titles[1]).toContain('for 10 min');
  });

  it('takes thresholds up to the shared bound inclusive, as the API does, and refuses beyond it', () => {
    for (const value of [READING_ALERT_VALUE_LIMIT, -READING_ALERT_VALUE_LIMIT]) {
      const file = parsed(renderReadingAlertsFile('postgres', [{ ...temperature, value }]));
      expect(file.groups![0]!.rules[0]!.data[2]!.model.expression).toBe(
        `$B > ${value < 0 ? '-' : ''}1000000000000000`,
      );
    }
    expect(() =>
      renderReadingAlertsFile('postgres', [
        { ...temperature, value: READING_ALERT_VALUE_LIMIT * 1.01 },
      ]),
    ).toThrow(InvalidReadingAlertError);
  });

  it('lists the deleted uids it is given as deleteRules, once each, never one it still provisions', () => {
    const deletedUid = 'fs-6f1c2d3e4a5b4c6d8e7f001122334455';
    const next = renderReadingAlertsFile('postgres', [onePi], [deletedUid, deletedUid]);
    expect(parsed(next).deleteRules).toEqual([{ orgId: 1, uid: deletedUid }]);
    expect(parsed(next).groups![0]!.rules.map((rule) => rule.uid)).toEqual([
      'fs-0a1b2c3d4e5f4a6b8c7d8e9fa0b1c2d3',
    ]);
    // A uid that is also a current rule is provisioned, not deleted.
    expect(
      parsed(renderReadingAlertsFile('postgres', [temperature], [deletedUid])).deleteRules,
    ).toBeUndefined();
    // Deletions alone still make a file Grafana acts on (the last rule deleted).
    expect(parsed(renderReadingAlertsFile('influxdb', [], [deletedUid]))).toEqual({
      apiVersion: 1,
      deleteRules: [{ orgId: 1, uid: deletedUid }],
    });
    expect(() => renderReadingAlertsFile('postgres', [], ['x" OR 1'])).toThrow(
      InvalidReadingAlertError,
    );
    expect(parsed(renderReadingAlertsFile('mongodb', []))).toEqual({ apiVersion: 1 });
  });

  it('refuses MongoDB rules: Grafana has no datasource for its readings', () => {
    expect(() => renderReadingAlertsFile('mongodb', [temperature])).toThrow(/MongoDB/);
  });

  it('is one of the rendered stack files, with the spec rules, readable by Grafana', () => {
    const spec = createStackSpec({
      address: '198.51.100.1',
      database: 'influxdb',
      secrets: generateStackSecrets(),
      readingAlerts: [temperature],
      deletedReadingAlertUids: ['fs-0a1b2c3d4e5f4a6b8c7d8e9fa0b1c2d3'],
    });
    const file = renderStack(spec).files.find((entry) => entry.path === READING_ALERTS_STACK_PATH);
    expect(file?.mode).toBe(0o644);
    expect(parsed(file!.content).groups![0]!.rules[0]!.uid).toBe(
      'fs-6f1c2d3e4a5b4c6d8e7f001122334455',
    );
    // A launch renders the deletions Fieldstation keeps: Grafana applies them as it starts.
    expect(parsed(file!.content).deleteRules).toEqual([
      { orgId: 1, uid: 'fs-0a1b2c3d4e5f4a6b8c7d8e9fa0b1c2d3' },
    ]);
    expect(file!.content).not.toContain(spec.secrets.grafanaAdminPassword);
  });

  describe('injection', () => {
    const attempts: [keyof ReadingAlertRule, unknown][] = [
      ['measurement', '{{ $values }}'],
      ['measurement', 'room" WHERE 1=1 --'],
      ['field', "temperature') = 'number' OR true --"],
      ['field', '$B'],
      ['device', "pi' OR '1'='1"],
      ['device', '{{ .Labels }}'],
      ['operator', '> 0 || $B'],
      ['value', Number.NaN],
      ['forMinutes', 1.5],
    ];
    it.each(attempts)('refuses %s %j, naming the field', (key, value) => {
      const rule = { ...temperature, [key]: value } as ReadingAlertRule;
      let error: unknown;
      try {
        renderReadingAlertsFile('postgres', [rule]);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(InvalidReadingAlertError);
      expect((error as InvalidReadingAlertError).field).toBe(key);
    });

    it('lets no template syntax into titles, labels or annotations (the one central check)', () => {
      expect(() => grafanaText('{{ $labels.device }}')).toThrow(InvalidReadingAlertError);
      expect(() => grafanaText('${GF_SECURITY_ADMIN_PASSWORD}')).toThrow(InvalidReadingAlertError);
      expect(grafanaText('room.temperature > 30')).toBe('room.temperature > 30');
      const text = renderReadingAlertsFile('influxdb', [temperature, onePi]);
      const rules = parsed(text).groups![0]!.rules;
      for (const rule of rules) {
        const shown = [
          rule.title,
          ...Object.values(rule.labels),
          ...Object.values(rule.annotations),
        ];
        for (const value of shown) expect(value).not.toMatch(/[{}$]/);
      }
    });
  });
});
