import type { Reading } from '../contract/reading';
import { isPlainObject } from '../contract/reading';

/**
 * InfluxDB 1.x line protocol for one reading: measurement, a `device` tag, one field per data
 * entry (nested objects flattened with dots), millisecond timestamp. Values that have no field
 * type (null, arrays) are skipped; a reading with no field left yields no line.
 */
export function toLineProtocol(reading: Reading): string | undefined {
  const fields: string[] = [];
  collectFields(reading.data, '', fields);
  if (fields.length === 0) return undefined;
  return `${escapeMeasurement(reading.measurement)},device=${escapeKey(reading.device)} ${fields.join(',')} ${reading.time}`;
}

function collectFields(data: Record<string, unknown>, prefix: string, out: string[]): void {
  for (const [key, value] of Object.entries(data)) {
    const name = prefix + key;
    if (typeof value === 'number') {
      if (Number.isFinite(value)) out.push(`${escapeKey(name)}=${formatFloat(value)}`);
    } else if (typeof value === 'boolean') {
      out.push(`${escapeKey(name)}=${value ? 'true' : 'false'}`);
    } else if (typeof value === 'string') {
      out.push(`${escapeKey(name)}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
    } else if (isPlainObject(value)) {
      collectFields(value, `${name}.`, out);
    }
  }
}

/** Numbers are always written as floats, so 21 and 21.5 never conflict as field types. */
function formatFloat(value: number): string {
  return Number.isInteger(value) && Math.abs(value) < 1e21 ? `${value}.0` : String(value);
}

function escapeMeasurement(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/[, ]/g, (match) => `\\${match}`)
    .replace(/[\r\n]/g, '\\ ');
}

function escapeKey(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/[,= ]/g, (match) => `\\${match}`)
    .replace(/[\r\n]/g, '\\ ');
}
