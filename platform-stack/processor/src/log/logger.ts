/** Structured logs: one JSON object per line on stdout, so `docker logs` and log shippers can parse them. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export class Logger {
  constructor(
    private readonly minimumLevel: LogLevel = 'info',
    private readonly baseFields: LogFields = {},
  ) {}

  child(fields: LogFields): Logger {
    return new Logger(this.minimumLevel, { ...this.baseFields, ...fields });
  }

  debug(message: string, fields?: LogFields): void {
    this.write('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.write('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.write('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.write('error', message, fields);
  }

  private write(level: LogLevel, message: string, fields?: LogFields): void {
    if (LEVEL_ORDER[level] < LEVEL_ORDER[this.minimumLevel]) return;
    const line = {
      time: new Date().toISOString(),
      level,
      msg: message,
      ...this.baseFields,
      ...fields,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

/** Error text safe for logs: connection strings inside driver messages lose their credentials. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\/\/[^/@\s]+@/g, '//***@');
}
