import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { dnsLabelMessage, isDnsLabel } from '../common/dns-label';
import { RESERVED_DEVICE_NAME_MESSAGE, RESERVED_DEVICE_NAMES } from '../platforms/platform-devices';
import { isLabels, MAX_LABELS } from './dto/device.dto';

/** Rows one import may hold (issue 14 item 7); one more is 413 TOO_MANY_ROWS. */
export const MAX_IMPORT_ROWS = 10_000;
/** Row problems listed in one 400 answer; the count says how many there were. */
const MAX_LISTED_PROBLEMS = 100;

/** One device of an import: name and labels (no secret: it may sit in Redis and logs). */
export interface ImportRow {
  name: string;
  labels: Record<string, string>;
}

/**
 * Parses an import CSV: one device per line, `name,labels`, with `labels` as
 * `key=value;key=value` (may be empty; a value may hold `=`, not `;`). A first line
 * `name,labels` is a header and skipped; blank lines are skipped. A field may be double-quoted
 * (`""` for a quote), so a value may hold a comma. Row numbers count every line from 1, as an
 * editor shows them. Every bad row is reported at once (400, nothing applied); duplicate names
 * inside the file are bad rows too.
 */
export function parseDeviceCsv(text: string): ImportRow[] {
  const lines = text.split(/\r?\n/);
  const rows: ImportRow[] = [];
  const problems: { row: number; problem: string }[] = [];
  const firstRowOf = new Map<string, number>();
  let dataRows = 0;
  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.trim() === '') return;
    if (index === 0 && /^\s*"?name"?\s*,\s*"?labels"?\s*$/i.test(line)) return;
    if (++dataRows > MAX_IMPORT_ROWS) return;
    const fields = splitCsvLine(line);
    if (fields === null) return problems.push({ row: lineNumber, problem: 'unbalanced quotes' });
    if (fields.length > 2) {
      return problems.push({ row: lineNumber, problem: 'more than two fields (name,labels)' });
    }
    const name = fields[0]!.trim();
    if (!isDnsLabel(name)) {
      return problems.push({ row: lineNumber, problem: `name ${dnsLabelMessage()}` });
    }
    if (RESERVED_DEVICE_NAMES.includes(name)) {
      return problems.push({ row: lineNumber, problem: RESERVED_DEVICE_NAME_MESSAGE });
    }
    const labels = parseLabels(fields[1] ?? '');
    if (typeof labels === 'string') return problems.push({ row: lineNumber, problem: labels });
    const first = firstRowOf.get(name);
    if (first !== undefined) {
      return problems.push({ row: lineNumber, problem: `duplicate name "${name}" (row ${first})` });
    }
    firstRowOf.set(name, lineNumber);
    rows.push({ name, labels });
  });
  if (dataRows > MAX_IMPORT_ROWS) {
    throw new ApiError(
      HttpStatus.PAYLOAD_TOO_LARGE,
      'TOO_MANY_ROWS',
      `The CSV has ${dataRows} devices; one import takes at most ${MAX_IMPORT_ROWS}`,
    );
  }
  if (problems.length > 0) {
    throw new ApiError(
      HttpStatus.BAD_REQUEST,
      'VALIDATION_FAILED',
      `${problems.length} row(s) of the CSV are not valid; nothing was imported`,
      problems.slice(0, MAX_LISTED_PROBLEMS).map(({ row, problem }) => ({
        field: `row ${row}`,
        problems: [problem],
      })),
    );
  }
  if (rows.length === 0) {
    throw new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'The CSV has no devices', [
      { field: 'csv', problems: ['no device rows'] },
    ]);
  }
  return rows;
}

/** `key=value;key=value` → labels, or the problem. */
function parseLabels(field: string): Record<string, string> | string {
  const labels: Record<string, string> = {};
  for (const pair of field.split(';')) {
    if (pair.trim() === '') continue;
    const split = pair.indexOf('=');
    if (split < 1) return `label "${pair.slice(0, 40)}" is not key=value`;
    const key = pair.slice(0, split).trim();
    if (key in labels) return `label "${key}" given twice`;
    labels[key] = pair.slice(split + 1).trim();
  }
  if (!isLabels(labels)) {
    return (
      `labels must be at most ${MAX_LABELS} key=value pairs: keys of letters, digits and ` +
      '"._/-" (up to 63), values up to 255 characters'
    );
  }
  return labels;
}

/** The fields of one CSV line (RFC 4180 quoting, no line break inside a field); null: bad quotes. */
function splitCsvLine(line: string): string[] | null {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quoted) {
      if (char !== '"') {
        field += char;
      } else if (line[i + 1] === '"') {
        field += '"';
        i++;
      } else {
        quoted = false;
      }
    } else if (char === '"') {
      if (field.trim() !== '' || wasQuoted) return null;
      quoted = wasQuoted = true;
      field = '';
    } else if (char === ',') {
      fields.push(field);
      field = '';
      wasQuoted = false;
    } else if (wasQuoted && char.trim() !== '') {
      return null;
    } else {
      field += char;
    }
  }
  if (quoted) return null;
  fields.push(field);
  return fields;
}
