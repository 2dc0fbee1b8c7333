import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DATABASE_CHOICES, createStackSpec, generateStackSecrets, renderStack } from '../src';

// Grafana cannot run here (no package, no registry): these check the provisioning files' structure.
describe('grafana provisioning', () => {
  const render = (database: (typeof DATABASE_CHOICES)[number]) => {
    const spec = createStackSpec({
      address: '198.51.100.1',
      database,
      secrets: generateStackSecrets(),
    });
    const files = Object.fromEntries(
      renderStack(spec).files.map((file) => [file.path, file.content]),
    );
    return { spec, files };
  };

  it.each([
    [
      'postgres',
      'grafana-postgresql-datasource',
      'database:5432',
      'fieldstation_grafana',
      '$FIELDSTATION_GRAFANA_DATABASE_PASSWORD',
    ],
    [
      'timescaledb',
      'grafana-postgresql-datasource',
      'database:5432',
      'fieldstation_grafana',
      '$FIELDSTATION_GRAFANA_DATABASE_PASSWORD',
    ],
    [
      'influxdb',
      'influxdb',
      'http://database:8086',
      'fieldstation_grafana',
      '$FIELDSTATION_GRAFANA_DATABASE_PASSWORD',
    ],
  ] as const)(
    'provisions a %s datasource and a starter dashboard using it',
    (database, type, url, user, passwordReference) => {
      const { spec, files } = render(database);
      const datasourceFile = files['grafana/provisioning/datasources/fieldstation.yaml'];
      const datasources = parse(datasourceFile) as { datasources: Record<string, unknown>[] };
      expect(datasources.datasources).toHaveLength(1);
      expect(datasources.datasources[0]).toMatchObject({
        type,
        url,
        uid: 'fieldstation-telemetry',
        isDefault: true,
        user,
      });
      // The password is an environment reference Grafana expands, never the secret itself.
      expect(datasourceFile).toContain(passwordReference);
      for (const secret of Object.values(spec.secrets))
        expect(datasourceFile).not.toContain(secret);

      const dashboard = JSON.parse(files['grafana/dashboards/readings.json']) as {
        uid: string;
        panels: { title: string; datasource: { uid: string }; targets: Record<string, string>[] }[];
      };
      expect(dashboard.panels.map((panel) => panel.title)).toEqual([
        'Readings per measurement and device',
        'Latest reading per device',
      ]);
      for (const panel of dashboard.panels)
        expect(panel.datasource.uid).toBe('fieldstation-telemetry');
      const query = dashboard.panels[0].targets[0];
      expect(query.rawSql ?? query.query).toMatch(
        database === 'influxdb'
          ? /GROUP BY time\(\$__interval\), "device"/
          : /measurement \|\| '\/' \|\| device/,
      );

      const providers = parse(files['grafana/provisioning/dashboards/fieldstation.yaml']) as {
        providers: { options: { path: string } }[];
      };
      expect(providers.providers[0].options.path).toBe('/var/lib/grafana-dashboards');
    },
  );

  it('provisions no datasource for MongoDB, which Grafana has no built-in plugin for', () => {
    const { files } = render('mongodb');
    expect(files['grafana/provisioning/datasources/fieldstation.yaml']).toBeUndefined();
    expect(files['grafana/dashboards/readings.json']).toBeUndefined();
  });
});
