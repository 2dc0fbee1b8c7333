/**
 * The device registry's input rules as the UI checks them before asking the API (which checks
 * them again and has the last word): backend/src/devices/dto/device.dto.ts and
 * backend/src/common/dns-label.ts.
 */

/** A DNS label: the broker login and MQTT client id. */
const DNS_LABEL = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
const DNS_LABEL_MAX = 63;
/** The platform's own broker logins. */
const RESERVED_NAMES = ['fieldstation-admin', 'fieldstation-processor'];
export const MAX_LABELS = 32;
const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE_MAX = 255;
export const METADATA_MAX_BYTES = 8 * 1024;

export const NAME_HINT =
  'Lowercase letters, digits and "-", starting with a letter, at most 63 characters (often a serial number). It is the broker login and MQTT client id.';
export const LABELS_HINT =
  'key=value pairs separated by ";", e.g. site=greenhouse-2; model=pi-zero';

/** Why a device name is refused, or undefined when it is a good one. */
export function deviceNameProblem(name: string): string | undefined {
  if (name === '') return 'A name is required';
  if (name.length > DNS_LABEL_MAX || !DNS_LABEL.test(name)) {
    return `"${name}" is not a DNS label: lowercase letters, digits and "-", starting with a letter, not ending with "-", at most ${DNS_LABEL_MAX} characters`;
  }
  if (RESERVED_NAMES.includes(name)) return `"${name}" is one of the platform's own broker logins`;
  return undefined;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** `site=greenhouse-2; model=pi-zero` (";" or new lines between pairs) → labels. */
export function parseLabels(text: string): Parsed<Record<string, string>> {
  const labels: Record<string, string> = {};
  const pairs = text
    .split(/[;\n]/)
    .map((pair) => pair.trim())
    .filter(Boolean);
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals < 0) return { ok: false, problem: `"${pair}" is not key=value` };
    const key = pair.slice(0, equals).trim();
    const value = pair.slice(equals + 1).trim();
    if (!LABEL_KEY.test(key)) {
      return {
        ok: false,
        problem: `label key "${key}" must be letters, digits and "._/-" (up to 63), starting and ending with a letter or digit`,
      };
    }
    if (value.length > LABEL_VALUE_MAX) {
      return { ok: false, problem: `label "${key}" is longer than ${LABEL_VALUE_MAX} characters` };
    }
    if (key in labels) return { ok: false, problem: `label "${key}" is given twice` };
    labels[key] = value;
  }
  if (Object.keys(labels).length > MAX_LABELS) {
    return { ok: false, problem: `at most ${MAX_LABELS} labels` };
  }
  return { ok: true, value: labels };
}

/** Labels as the form shows them: `site=greenhouse-2; model=pi-zero`. */
export function formatLabels(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join('; ');
}

/** The metadata field: blank is `{}`, else a JSON object of at most 8 KB. */
export function parseMetadata(text: string): Parsed<Record<string, unknown>> {
  if (text.trim() === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'must be a JSON object, e.g. {"firmware": "1.4.2"}' };
  }
  if (new TextEncoder().encode(JSON.stringify(value)).length > METADATA_MAX_BYTES) {
    return { ok: false, problem: `must be at most ${METADATA_MAX_BYTES} bytes` };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Metadata as the form shows it: indented JSON, blank when empty. */
export function formatMetadata(metadata: Record<string, unknown>): string {
  return Object.keys(metadata).length === 0 ? '' : JSON.stringify(metadata, null, 2);
}
