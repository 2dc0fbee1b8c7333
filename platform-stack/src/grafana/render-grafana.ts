import { DATABASE_NAME, GRAFANA_DATABASE_ROLE, type DatabaseChoice } from '../spec/stack-spec';

/** Where the compose file mounts the dashboards directory inside the Grafana container. */
export const GRAFANA_DASHBOARDS_PATH = '/var/lib/grafana-dashboards';
export const DATASOURCE_UID = 'fieldstation-telemetry';

/**
 * Grafana datasource provisioning for the chosen database, as its read-only user. The password is
 * not in the file: Grafana expands `$FIELDSTATION_GRAFANA_DATABASE_PASSWORD` from its container
 * environment (.env). MongoDB has no datasource built into Grafana (only a commercial plugin), so
 * none is provisioned; its read-only user `fieldstation_grafana` exists for one added by hand.
 */
export function renderDatasourceProvisioning(
  database: DatabaseChoice,
): Record<string, unknown> | undefined {
  const common = {
    name: 'Telemetry',
    uid: DATASOURCE_UID,
    access: 'proxy',
    isDefault: true,
    editable: false,
  };
  switch (database) {
    case 'postgres':
    case 'timescaledb':
      return {
        apiVersion: 1,
        datasources: [
          {
            ...common,
            type: 'grafana-postgresql-datasource',
            url: 'database:5432',
            // Read-only role (database/setup.sql), never the superuser.
            user: GRAFANA_DATABASE_ROLE,
            jsonData: {
              database: DATABASE_NAME,
              sslmode: 'disable',
              postgresVersion: 1600,
              timescaledb: database === 'timescaledb',
            },
            secureJsonData: { password: '$FIELDSTATION_GRAFANA_DATABASE_PASSWORD' },
          },
        ],
      };
    case 'influxdb':
      return {
        apiVersion: 1,
        datasources: [
          {
            ...common,
            type: 'influxdb',
            url: 'http://database:8086',
            // READ on the readings database only (database/setup.sh), never the admin.
            user: GRAFANA_DATABASE_ROLE,
            jsonData: { dbName: DATABASE_NAME, httpMode: 'GET' },
            secureJsonData: { password: '$FIELDSTATION_GRAFANA_DATABASE_PASSWORD' },
          },
        ],
      };
    case 'mongodb':
      return undefined;
  }
}

export function renderDashboardProvisioning(): Record<string, unknown> {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'fieldstation',
        folder: 'Fieldstation',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: GRAFANA_DASHBOARDS_PATH },
      },
    ],
  };
}

/** The starter dashboard: readings per measurement and device over time, and the latest readings. */
export function renderStarterDashboard(
  database: DatabaseChoice,
): Record<string, unknown> | undefined {
  const datasource = {
    type: database === 'influxdb' ? 'influxdb' : 'grafana-postgresql-datasource',
    uid: DATASOURCE_UID,
  };
  let targets: Record<string, unknown>[];
  let latest: Record<string, unknown>[];
  if (database === 'mongodb') return undefined;
  if (database === 'influxdb') {
    targets = [
      {
        refId: 'A',
        datasource,
        rawQuery: true,
        resultFormat: 'time_series',
        query:
          'SELECT count(*) FROM /.*/ WHERE $timeFilter GROUP BY time($__interval), "device" fill(0)',
      },
    ];
    latest = [
      {
        refId: 'A',
        datasource,
        rawQuery: true,
        resultFormat: 'table',
        query: 'SELECT last(*) FROM /.*/ GROUP BY "device"',
      },
    ];
  } else {
    targets = [
      {
        refId: 'A',
        datasource,
        editorMode: 'code',
        format: 'time_series',
        rawQuery: true,
        rawSql:
          "SELECT $__timeGroupAlias(time, $__interval), measurement || '/' || device AS metric, count(*) AS readings\n" +
          'FROM readings WHERE $__timeFilter(time)\nGROUP BY 1, 2 ORDER BY 1',
      },
    ];
    latest = [
      {
        refId: 'A',
        datasource,
        editorMode: 'code',
        format: 'table',
        rawQuery: true,
        rawSql:
          'SELECT DISTINCT ON (measurement, device) measurement, device, time, data\n' +
          'FROM readings WHERE $__timeFilter(time)\nORDER BY measurement, device, time DESC',
      },
    ];
  }
  return {
    uid: 'fieldstation-readings',
    title: 'Readings',
    tags: ['fieldstation'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    refresh: '10s',
    time: { from: 'now-6h', to: 'now' },
    panels: [
      {
        id: 1,
        type: 'timeseries',
        title: 'Readings per measurement and device',
        datasource,
        gridPos: { x: 0, y: 0, w: 24, h: 10 },
        fieldConfig: {
          defaults: { unit: 'short', custom: { drawStyle: 'bars', stacking: { mode: 'normal' } } },
          overrides: [],
        },
        targets,
      },
      {
        id: 2,
        type: 'table',
        title: 'Latest reading per device',
        datasource,
        gridPos: { x: 0, y: 10, w: 24, h: 10 },
        targets: latest,
      },
    ],
  };
}
