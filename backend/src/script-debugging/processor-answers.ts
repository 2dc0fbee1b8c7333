import type {
  DeadLetterDto,
  DeadLettersDto,
  DryRunReportDto,
  DryRunResultDto,
  ScriptLogDto,
  ScriptLogLineDto,
} from './dto/script-debugging.dto';
import type { ReadingDto } from '../platforms/dto/readings.dto';

/**
 * The processor's answers come from the user's host: each is reduced to the documented shape
 * with checked types and bounded sizes before it reaches the API, whatever the host printed.
 */
type Loose = Record<string, unknown>;

const MAX_TEXT = 4000;

function object(value: unknown): Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Loose)
    : {};
}

function list(value: unknown, max: number): unknown[] {
  return Array.isArray(value) ? value.slice(0, max) : [];
}

function text(value: unknown, max = MAX_TEXT): string | null {
  return typeof value === 'string' ? value.slice(0, max) : null;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
}

export function toScriptLog(answer: unknown): ScriptLogDto {
  const value = object(answer);
  return { lines: list(value.lines, 1000).map(toLogLine), dropped: count(value.dropped) };
}

function toLogLine(entry: unknown): ScriptLogLineDto {
  const value = object(entry);
  return {
    time: text(value.time, 40) ?? '',
    level: text(value.level, 10) ?? 'info',
    source: text(value.source, 40) ?? 'output',
    message: text(value.message) ?? '',
    fields: text(value.fields),
  };
}

export function toDeadLetters(answer: unknown): DeadLettersDto {
  const value = object(answer);
  return { total: count(value.total), letters: list(value.letters, 200).map(toDeadLetter) };
}

function toDeadLetter(entry: unknown): DeadLetterDto {
  const value = object(entry);
  return {
    time: text(value.time, 40),
    stage: text(value.stage, 20),
    reason: text(value.reason, 1000),
    measurement: text(value.measurement, 200),
    device: text(value.device, 200),
    bodyPreview: text(value.bodyPreview, 1000) ?? '',
    bodyBytes: count(value.bodyBytes),
    replays: count(value.replays),
  };
}

export function toCount(answer: unknown, key: 'replayed' | 'purged'): number {
  return count(object(answer)[key]);
}

export function toDryRunReport(answer: unknown): DryRunReportDto {
  const value = object(answer);
  return {
    loadError: text(value.loadError),
    results: list(value.results, 100).map(toDryRunResult),
    log: list(value.log, 1000).map(toLogLine),
  };
}

function toDryRunResult(entry: unknown): DryRunResultDto {
  const value = object(entry);
  return {
    input: value.input ? toReading(value.input) : null,
    bodyPreview: text(value.bodyPreview, 1000),
    outputs: Array.isArray(value.outputs) ? list(value.outputs, 100).map(toReading) : null,
    error: text(value.error),
  };
}

function toReading(entry: unknown): ReadingDto {
  const value = object(entry);
  return {
    time: text(value.time, 40) ?? '',
    measurement: text(value.measurement, 200) ?? '',
    device: text(value.device, 200) ?? '',
    data: object(value.data),
  };
}
