import { stringify } from 'yaml';
import type { DatabaseChoice } from '../spec/stack-spec';
import { DATASOURCE_UID } from './render-grafana';

/** Where Grafana's file provisioning finds the readings' alert rules (relative to the stack dir). */
export const READING_ALERTS_STACK_PATH = 'grafana/provisioning/alerting/fieldstation-readings.yaml';

export const READING_ALERT_OPERATORS = ['>', '>=', '<', '<='] as const;
export type ReadingAlertOperator = (typeof READING_ALERT_OPERATORS)[number];

/**
 * Measurement and field names a rule may name. They end up inside an InfluxQL or SQL query and in
 * Grafana's (templated) title and annotations, so nothing but letters, digits, "_" and inner
 * "." or "-" (a nested field is `a.b` in InfluxDB) passes: no quote, no brace, no "$".
 */
export const READING_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(?:[.-][A-Za-z0-9_]+)*$/;
export const READING_NAME_MAX_LENGTH = 64;
/**
 * A threshold's bound, inclusive (the API's DTO uses the same one): up to it JavaScript prints a
 * plain decimal, never an exponent, into Grafana's math expression.
 */
export const READING_ALERT_VALUE_LIMIT = 1e15;
/** Device names as the broker allows them (DNS labels). */
export const READING_DEVICE_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** One threshold on a measurement field of the readings, evaluated by Grafana. */
export interface ReadingAlertRule {
  /** Fieldstation's rule id (a UUID): the Grafana rule's uid is derived from it. */
  id: string;
  measurement: string;
  field: string;
  operator: ReadingAlertOperator;
  value: number;
  /** How long the condition must hold before the rule fires (0: at once). */
  forMinutes: number;
  /** Only this device's readings; absent: every device (one alert instance per device). */
  device?: string;
}

/** Refused input: a name that could reach a query or Grafana's templates, or MongoDB. */
export class InvalidReadingAlertError extends Error {
  override readonly name = 'InvalidReadingAlertError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export const GRAFANA_ALERT_FOLDER = 'Fieldstation';
export const GRAFANA_ALERT_GROUP = 'readings';
/** Grafana's server-side expressions "datasource". */
const EXPRESSION_DATASOURCE = '__expr__';
const EVALUATION_INTERVAL_SECONDS = 60;

/** Whether Grafana can evaluate reading alerts on this database (MongoDB has no datasource). */
export function supportsReadingAlerts(database: DatabaseChoice): boolean {
  return database !== 'mongodb';
}

/** Grafana's rule uid (at most 40 of `[A-Za-z0-9_-]`): stable for the rule's life. */
export function readingAlertUid(ruleId: string): string {
  const uid = `fs-${ruleId.replace(/-/g, '')}`;
  if (!/^fs-[0-9a-f]{32}$/.test(uid)) {
    throw new InvalidReadingAlertError('id', `rule id "${ruleId}" is not a UUID`);
  }
  return uid;
}

/** Checks one rule's names and figures; throws InvalidReadingAlertError naming the field. */
export function checkReadingAlertRule(rule: ReadingAlertRule): void {
  readingAlertUid(rule.id);
  for (const key of ['measurement', 'field'] as const) {
    const name = rule[key];
    if (
      typeof name !== 'string' ||
      name.length > READING_NAME_MAX_LENGTH ||
      !READING_NAME_PATTERN.test(name)
    ) {
      throw new InvalidReadingAlertError(
        key,
        `${key} must be letters, digits and "_" (inner "." or "-"), at most ${READING_NAME_MAX_LENGTH} characters`,
      );
    }
  }
  if (rule.device !== undefined && !READING_DEVICE_PATTERN.test(rule.device)) {
    throw new InvalidReadingAlertError('device', 'device must be a device name (a DNS label)');
  }
  if (!READING_ALERT_OPERATORS.includes(rule.operator)) {
    throw new InvalidReadingAlertError(
      'operator',
      `operator must be one of ${READING_ALERT_OPERATORS.join(' ')}`,
    );
  }
  // Plain decimals only: the value is written into a math expression as JavaScript prints it.
  if (typeof rule.value !== 'number' || !(Math.abs(rule.value) <= READING_ALERT_VALUE_LIMIT)) {
    throw new InvalidReadingAlertError('value', 'value must be a number between -1e15 and 1e15');
  }
  if (!Number.isInteger(rule.forMinutes) || rule.forMinutes < 0 || rule.forMinutes > 1440) {
    throw new InvalidReadingAlertError('forMinutes', 'forMinutes must be whole minutes, 0 to 1440');
  }
}

/**
 * The one place that lets text into Grafana's titles, labels and annotations, which Grafana
 * expands as Go templates: anything that could open a template (`{{`, `}}`) or a variable (`$`)
 * is refused, so a rule can never make Grafana print its values, labels or anything else.
 */
export function grafanaText(text: string): string {
  if (/[{}$]/.test(text)) {
    throw new InvalidReadingAlertError('text', `"${text}" could be read as a Grafana template`);
  }
  return text;
}

const GRAFANA_UID = /^fs-[0-9a-f]{32}$/;

/**
 * Grafana alerting file provisioning (apiVersion 1) for the readings' threshold rules: one group
 * in the "Fieldstation" folder, evaluated each minute. `deletedUids` (the deleted rules
 * Fieldstation keeps until a reload listing them succeeded) become `deleteRules`: Grafana keeps a
 * provisioned rule that merely disappears from the file. A uid also among `rules` is not deleted.
 */
export function renderReadingAlerts(
  database: DatabaseChoice,
  rules: readonly ReadingAlertRule[],
  deletedUids: readonly string[] = [],
): Record<string, unknown> {
  if (rules.length > 0 && !supportsReadingAlerts(database)) {
    throw new InvalidReadingAlertError(
      'kind',
      'MongoDB platforms have no Grafana datasource for the readings: Grafana cannot evaluate reading thresholds there',
    );
  }
  rules.forEach(checkReadingAlertRule);
  const file: Record<string, unknown> = { apiVersion: 1 };
  if (rules.length > 0) {
    file.groups = [
      {
        orgId: 1,
        name: GRAFANA_ALERT_GROUP,
        folder: GRAFANA_ALERT_FOLDER,
        interval: `${EVALUATION_INTERVAL_SECONDS}s`,
        rules: rules.map((rule) => renderRule(database, rule)),
      },
    ];
  }
  for (const uid of deletedUids) {
    if (!GRAFANA_UID.test(uid)) throw new InvalidReadingAlertError('uid', `"${uid}" is not ours`);
  }
  const kept = new Set(rules.map((rule) => readingAlertUid(rule.id)));
  const deleted = [...new Set(deletedUids)].filter((uid) => !kept.has(uid)).sort();
  if (deleted.length > 0) {
    file.deleteRules = deleted.map((uid) => ({ orgId: 1, uid }));
  }
  return file;
}

/** The provisioning file's text (a YAML library renders the data; nothing is templated). */
export function renderReadingAlertsFile(
  database: DatabaseChoice,
  rules: readonly ReadingAlertRule[],
  deletedUids: readonly string[] = [],
): string {
  return stringify(renderReadingAlerts(database, rules, deletedUids), { lineWidth: 0 });
}

function renderRule(database: DatabaseChoice, rule: ReadingAlertRule): Record<string, unknown> {
  const scope = rule.device ? `device ${rule.device}` : 'any device';
  const condition = `${rule.measurement}.${rule.field} ${rule.operator} ${rule.value}`;
  // Grafana refuses two rules of one title in a folder: the hold time and the rule id's first
  // eight hex digits keep titles apart even for rules differing only in what a title leaves out.
  const title = `${condition} for ${rule.forMinutes} min (${scope}) #${readingAlertUid(rule.id).slice(3, 11)}`;
  // Look back over the hold time plus a margin, at least ten minutes, so a slow sender still has
  // a latest value; `for` then makes Grafana wait the hold time before firing.
  const lookBackSeconds = Math.max(600, (rule.forMinutes + 5) * 60);
  const labels: Record<string, string> = {
    fieldstation_rule: rule.id,
    measurement: rule.measurement,
    field: rule.field,
  };
  if (rule.device) labels.device = rule.device;
  return {
    uid: readingAlertUid(rule.id),
    title: grafanaText(title),
    condition: 'C',
    data: [
      {
        refId: 'A',
        relativeTimeRange: { from: lookBackSeconds, to: 0 },
        datasourceUid: DATASOURCE_UID,
        model: readingsQuery(database, rule),
      },
      {
        refId: 'B',
        relativeTimeRange: { from: 0, to: 0 },
        datasourceUid: EXPRESSION_DATASOURCE,
        model: {
          refId: 'B',
          type: 'reduce',
          expression: 'A',
          reducer: 'last',
          settings: { mode: 'dropNN' },
          datasource: { type: EXPRESSION_DATASOURCE, uid: EXPRESSION_DATASOURCE },
        },
      },
      {
        refId: 'C',
        relativeTimeRange: { from: 0, to: 0 },
        datasourceUid: EXPRESSION_DATASOURCE,
        model: {
          refId: 'C',
          // A math expression takes all four comparisons in every Grafana 11 (1 fires, 0 not).
          type: 'math',
          expression: `$B ${rule.operator} ${rule.value}`,
          datasource: { type: EXPRESSION_DATASOURCE, uid: EXPRESSION_DATASOURCE },
        },
      },
    ],
    noDataState: 'NoData',
    execErrState: 'Error',
    for: `${rule.forMinutes}m`,
    labels: Object.fromEntries(
      Object.entries(labels).map(([key, value]) => [key, grafanaText(value)]),
    ),
    annotations: {
      summary: grafanaText(
        `${condition} for ${rule.forMinutes} min on ${scope} (Fieldstation reading threshold)`,
      ),
    },
    isPaused: false,
  };
}

/**
 * The field's per-minute mean per device (Grafana then takes the latest). Names passed {@link checkReadingAlertRule}
 * (no quote can occur), and are still quoted as identifiers / literals of each language.
 */
function readingsQuery(database: DatabaseChoice, rule: ReadingAlertRule): Record<string, unknown> {
  const common = { refId: 'A', intervalMs: 60_000, maxDataPoints: 43_200 };
  if (database === 'influxdb') {
    const device = rule.device ? ` AND "device" = '${rule.device}'` : '';
    return {
      ...common,
      datasource: { type: 'influxdb', uid: DATASOURCE_UID },
      rawQuery: true,
      resultFormat: 'time_series',
      query:
        `SELECT mean("${rule.field}") FROM "${rule.measurement}" WHERE $timeFilter${device} ` +
        'GROUP BY time(1m), "device" fill(none)',
    };
  }
  const device = rule.device ? ` AND device = '${rule.device}'` : '';
  // A nested field `a.b` is the JSON path {a,b}. Only JSON numbers count: a text value in that
  // field is skipped, never a failed cast.
  const path = `'{${rule.field.split('.').join(',')}}'`;
  const value = `CASE WHEN jsonb_typeof(data #> ${path}) = 'number' THEN (data #>> ${path})::double precision END`;
  return {
    ...common,
    datasource: { type: 'grafana-postgresql-datasource', uid: DATASOURCE_UID },
    editorMode: 'code',
    format: 'time_series',
    rawQuery: true,
    rawSql:
      `SELECT $__timeGroupAlias(time, 1m), device AS metric, avg(${value}) AS value\n` +
      `FROM readings WHERE $__timeFilter(time) AND measurement = '${rule.measurement}'${device}\n` +
      'GROUP BY 1, 2 ORDER BY 1',
  };
}
