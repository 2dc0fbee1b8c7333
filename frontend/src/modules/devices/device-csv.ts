import { deviceNameProblem, parseLabels } from './device-fields';

/** The most rows one import takes (the registry's bulk limit, issue 14). */
export const MAX_IMPORT_ROWS = 10_000;

export interface ImportRow {
  /** The line in the file (1-based, the header counts), for messages. */
  line: number;
  name: string;
  labels: Record<string, string>;
}

export interface RowProblem {
  line: number;
  problem: string;
}

/** `skipped`: names already active on the platform, which the import leaves as they are. */
export type ImportCheck = { rows: ImportRow[]; problems: RowProblem[]; skipped: string[] };

/**
 * Splits CSV text (RFC 4180: `"` quotes a field, `""` is a quote inside one) into records, each
 * with the line it starts on. Blank lines are left out.
 */
export function csvRecords(text: string): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let touched = false;
  const endRecord = () => {
    fields.push(field);
    if (touched || fields.length > 1) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    touched = false;
  };
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (char === '"') {
        quoted = false;
      } else {
        if (char === '\n') line++;
        field += char;
      }
    } else if (char === '"') {
      quoted = true;
      touched = true;
    } else if (char === ',') {
      fields.push(field);
      field = '';
      touched = true;
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[index + 1] === '\n') index++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += char;
      if (char.trim() !== '') touched = true;
    }
  }
  endRecord();
  return records;
}

/**
 * Checks a device list `name,labels` (labels `key=value;key=value`, the column may be left out;
 * a first line `name,labels` is a header) before anything is created: every row's problems, by
 * line, so the user fixes the file once. `taken` are the platform's active device names: as the
 * API does, a row naming one is skipped (a fleet file re-imported adds only its new devices).
 */
export function checkImport(text: string, taken: ReadonlySet<string> = new Set()): ImportCheck {
  const records = csvRecords(text);
  if (records[0] && records[0].fields[0]?.trim().toLowerCase() === 'name') records.shift();
  const rows: ImportRow[] = [];
  const problems: RowProblem[] = [];
  const skipped: string[] = [];
  if (records.length === 0) {
    return {
      rows,
      skipped,
      problems: [{ line: 1, problem: 'no devices: one "name,labels" per line' }],
    };
  }
  if (records.length > MAX_IMPORT_ROWS) {
    return {
      rows,
      skipped,
      problems: [
        {
          line: records[MAX_IMPORT_ROWS]!.line,
          problem: `${records.length} devices: at most ${MAX_IMPORT_ROWS.toLocaleString('en')} per import`,
        },
      ],
    };
  }
  const seen = new Map<string, number>();
  for (const { line, fields } of records) {
    const [rawName = '', labelText = '', ...extra] = fields;
    const name = rawName.trim();
    const found: string[] = [];
    if (extra.some((value) => value.trim() !== '')) {
      found.push(`${fields.length} columns: expected name,labels (quote labels that hold a ",")`);
    }
    const nameProblem = deviceNameProblem(name);
    if (nameProblem) found.push(nameProblem);
    else if (seen.has(name)) found.push(`"${name}" is already on line ${seen.get(name)}`);
    const labels = parseLabels(labelText);
    if (!labels.ok) found.push(labels.problem);
    if (!seen.has(name)) seen.set(name, line);
    if (found.length) problems.push(...found.map((problem) => ({ line, problem })));
    else if (taken.has(name)) skipped.push(name);
    else if (labels.ok) rows.push({ line, name, labels: labels.value });
  }
  return { rows, problems, skipped };
}
