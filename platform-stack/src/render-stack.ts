import { stringify } from 'yaml';
import { dataDirectories, renderCompose, renderEnvFile } from './compose/render-compose';
import { databaseSetupFile, renderDatabaseSetup } from './database/render-database-setup';
import { READING_ALERTS_STACK_PATH, renderReadingAlertsFile } from './grafana/render-alerting';
import {
  renderDashboardProvisioning,
  renderDatasourceProvisioning,
  renderStarterDashboard,
} from './grafana/render-grafana';
import {
  renderEnabledPlugins,
  renderRabbitmqAdvancedConfig,
  renderRabbitmqConf,
  renderRabbitmqDefinitions,
  revocationListStackPath,
} from './rabbitmq/render-rabbitmq';
import type { StackSpec } from './spec/stack-spec';
import { validateStackSpec } from './spec/stack-spec';

export interface RenderedFile {
  /** Relative to the stack directory on the VM (where docker-compose.yml lives). */
  path: string;
  content: string;
  /** 0o600 for files holding secrets or keys. */
  mode: number;
}

export interface RenderedStack {
  files: RenderedFile[];
  /** Directories to create on the data volume before `compose up`, with their owners. */
  dataDirectories: { path: string; uid: number; gid: number }[];
}

/**
 * Files the processor image is built from, relative to the @fieldstation/processor package, to
 * copy next to the rendered `processor/script/` (build context `processor/`). Run its `build` first.
 */
export const PROCESSOR_BUILD_FILES = [
  'Dockerfile',
  'dist/main.cjs',
  'dist/script-host.cjs',
  'dist/script-worker.cjs',
] as const;

const PUBLIC = 0o644;
const PRIVATE = 0o600;

const yaml = (value: unknown) => stringify(value, { lineWidth: 0 });

/** Renders everything one platform's VM needs next to the images: compose, broker, Grafana, script. */
export function renderStack(spec: StackSpec): RenderedStack {
  validateStackSpec(spec);
  const files: RenderedFile[] = [
    { path: 'docker-compose.yml', content: yaml(renderCompose(spec)), mode: PUBLIC },
    { path: '.env', content: renderEnvFile(spec), mode: PRIVATE },
    { path: 'rabbitmq/rabbitmq.conf', content: renderRabbitmqConf(spec), mode: PUBLIC },
    { path: 'rabbitmq/enabled_plugins', content: renderEnabledPlugins(spec), mode: PUBLIC },
    {
      path: 'rabbitmq/advanced.config',
      content: renderRabbitmqAdvancedConfig(spec),
      mode: PUBLIC,
    },
    // Password hashes only, but still nobody else's business.
    {
      path: 'rabbitmq/definitions.json',
      content: json(renderRabbitmqDefinitions(spec)),
      mode: PRIVATE,
    },
    { path: 'processor/script/process.js', content: spec.processor.scriptSource, mode: PUBLIC },
    { path: 'processor/script/package.json', content: json(scriptPackageJson(spec)), mode: PUBLIC },
    {
      path: 'grafana/provisioning/dashboards/fieldstation.yaml',
      content: yaml(renderDashboardProvisioning()),
      mode: PUBLIC,
    },
  ];
  if (spec.tls) {
    files.push(
      { path: 'rabbitmq/tls/ca.pem', content: spec.tls.caCertificatePem, mode: PUBLIC },
      { path: 'rabbitmq/tls/server.pem', content: spec.tls.serverCertificatePem, mode: PUBLIC },
      // Readable by the broker's user inside the container: the playbook chowns it to uid 999.
      { path: 'rabbitmq/tls/server.key', content: spec.tls.serverPrivateKeyPem, mode: PRIVATE },
      // Grafana serves HTTPS with the same certificate; the playbook chowns its key to uid 472.
      { path: 'grafana/tls/server.pem', content: spec.tls.serverCertificatePem, mode: PUBLIC },
      { path: 'grafana/tls/server.key', content: spec.tls.serverPrivateKeyPem, mode: PRIVATE },
    );
    if (spec.tls.revocationListPem !== undefined) {
      files.push({
        path: revocationListStackPath(spec.tls.caCertificatePem),
        content: spec.tls.revocationListPem,
        mode: PUBLIC,
      });
    }
  }
  // No secret inside: every password comes from the setup container's environment.
  files.push({
    path: databaseSetupFile(spec.database).stackPath,
    content: renderDatabaseSetup(spec.database),
    mode: PUBLIC,
  });
  const datasource = renderDatasourceProvisioning(spec.database);
  if (datasource) {
    files.push({
      path: 'grafana/provisioning/datasources/fieldstation.yaml',
      content: yaml(datasource),
      mode: PUBLIC,
    });
  }
  // Always written (empty without rules), so a launch replaces whatever an earlier one left.
  files.push({
    path: READING_ALERTS_STACK_PATH,
    content: renderReadingAlertsFile(
      spec.database,
      spec.readingAlerts ?? [],
      spec.deletedReadingAlertUids ?? [],
    ),
    mode: PUBLIC,
  });
  const dashboard = renderStarterDashboard(spec.database);
  files.push({
    path: dashboard ? 'grafana/dashboards/readings.json' : 'grafana/dashboards/.keep',
    content: dashboard ? json(dashboard) : '',
    mode: PUBLIC,
  });
  return { files, dataDirectories: dataDirectories(spec) };
}

function scriptPackageJson(spec: StackSpec): Record<string, unknown> {
  return {
    name: 'fieldstation-user-script',
    private: true,
    type: 'module',
    dependencies: spec.processor.packages,
  };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
