import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseTerraformLine, type InfraLogEntry, type InfraLogSink } from './infra-log-entry';
import { Redactor } from './redactor';
import { TerraformCancelledError, TerraformError } from './terraform-errors';

export interface TerraformRunnerOptions {
  /** `tofu` (preferred) or `terraform`, a name on PATH or an absolute path (TERRAFORM_BIN). */
  binary: string;
  /** Shared across stacks: holds the provider plugin cache and the CLI config file. */
  cacheDir: string;
  /** Time between SIGINT and SIGKILL when a run is cancelled. */
  cancelGraceMs?: number;
}

export interface TerraformRunOptions {
  /** The stack's working directory, containing `cdk.tf.json`. */
  workDir: string;
  /**
   * Provider credentials (AWS_*, GOOGLE_CREDENTIALS, OS_*, PG_CONN_STR). They reach only the
   * child's environment, and every value is scrubbed from log entries and error messages.
   */
  credentials?: Record<string, string>;
  onEvent?: InfraLogSink;
  signal?: AbortSignal;
}

export interface TerraformInitOptions extends TerraformRunOptions {
  /** Copy the state of the backend the working dir used before into the configured one. */
  migrateState?: boolean;
}

export interface TerraformOutput {
  value: unknown;
  sensitive: boolean;
  type: unknown;
}

type OutputMode = 'json-events' | 'text' | 'capture';

interface Invocation {
  command: string;
  args: string[];
  mode: OutputMode;
}

/** Environment variables the child inherits from this process; nothing else leaks through. */
const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY'];

/**
 * Runs OpenTofu/Terraform in a stack's working directory. Every command is non-interactive,
 * streams its JSON UI events to `onEvent`, can be cancelled through an AbortSignal and fails
 * with a {@link TerraformError} naming the failing resource.
 */
export class TerraformRunner {
  private readonly tool: string;
  private readonly cancelGraceMs: number;
  private prepared: Promise<void> | undefined;
  private initQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: TerraformRunnerOptions) {
    this.tool = basename(options.binary);
    this.cancelGraceMs = options.cancelGraceMs ?? 15_000;
  }

  /**
   * `init` has no JSON mode in OpenTofu 1.6, so its plain lines are streamed as they come.
   * Inits run one at a time: the shared plugin cache is not safe for concurrent writers.
   */
  async init(run: TerraformInitOptions): Promise<void> {
    const migrate = run.migrateState ? ['-migrate-state', '-force-copy'] : [];
    const result = this.initQueue.then(() =>
      this.execute(run, {
        command: 'init',
        args: ['init', '-input=false', '-no-color', ...migrate],
        mode: 'text',
      }),
    );
    this.initQueue = result.catch(() => undefined);
    await result;
  }

  async apply(run: TerraformRunOptions): Promise<void> {
    await this.execute(run, {
      command: 'apply',
      args: ['apply', '-input=false', '-json', '-auto-approve', '-lock-timeout=60s'],
      mode: 'json-events',
    });
  }

  async destroy(run: TerraformRunOptions): Promise<void> {
    await this.execute(run, {
      command: 'destroy',
      args: ['destroy', '-input=false', '-json', '-auto-approve', '-lock-timeout=60s'],
      mode: 'json-events',
    });
  }

  /** Reads the outputs; values are returned to the caller and never logged. */
  async outputs(run: TerraformRunOptions): Promise<Record<string, TerraformOutput>> {
    const stdout = await this.execute(run, {
      command: 'output',
      args: ['output', '-json'],
      mode: 'capture',
    });
    return JSON.parse(stdout || '{}') as Record<string, TerraformOutput>;
  }

  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await mkdir(join(this.options.cacheDir, 'plugin-cache'), { recursive: true });
      // An empty CLI config: a stray ~/.terraformrc must not change what runs here.
      await writeFile(join(this.options.cacheDir, 'cli.tfrc'), '');
    })();
    return this.prepared;
  }

  private childEnv(credentials: Record<string, string>): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const name of INHERITED_ENV) {
      if (process.env[name] !== undefined) env[name] = process.env[name];
    }
    return {
      ...env,
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CHECKPOINT_DISABLE: '1',
      TF_CLI_CONFIG_FILE: join(this.options.cacheDir, 'cli.tfrc'),
      TF_PLUGIN_CACHE_DIR: join(this.options.cacheDir, 'plugin-cache'),
      ...credentials,
    };
  }

  private async execute(run: TerraformRunOptions, invocation: Invocation): Promise<string> {
    const { command } = invocation;
    await this.prepare();
    if (run.signal?.aborted) throw new TerraformCancelledError(this.tool, command, null);
    const credentials = run.credentials ?? {};
    const redactor = new Redactor(Object.values(credentials));
    const emit = (entry: InfraLogEntry): void => {
      run.onEvent?.({
        ...entry,
        message: redactor.redact(entry.message),
        ...(entry.diagnostic ? { diagnostic: redactDiagnostic(entry.diagnostic, redactor) } : {}),
      });
    };

    // Its own process group, so a forced kill also reaches provider plugins and provisioners.
    const child = spawn(this.options.binary, invocation.args, {
      cwd: run.workDir,
      env: this.childEnv(credentials),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });

    const errors: InfraLogEntry[] = [];
    const stderrLines: string[] = [];
    let captured = '';

    if (invocation.mode === 'capture') {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (captured += chunk));
    } else {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (line.trim() === '') return;
        const entry =
          invocation.mode === 'json-events'
            ? parseTerraformLine(line)
            : { level: 'info' as const, message: line, type: 'stdout', timestamp: now() };
        if (entry.diagnostic?.severity === 'error') errors.push(entry);
        emit(entry);
      });
    }
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.trim() === '') return;
      stderrLines.push(line);
      emit({ level: 'error', message: line, type: 'stderr', timestamp: now() });
    });

    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      cancelled = true;
      emit({
        level: 'warn',
        message: `Cancelling ${this.tool} ${command}`,
        type: 'cancel',
        timestamp: now(),
      });
      // SIGINT lets tofu stop its operations and write state; SIGKILL only if it does not.
      child.kill('SIGINT');
      killTimer = setTimeout(() => killGroup(child.pid), this.cancelGraceMs);
    };
    run.signal?.addEventListener('abort', onAbort, { once: true });

    try {
      const exitCode = await new Promise<number | null>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code) => resolve(code));
      });
      if (cancelled) throw new TerraformCancelledError(this.tool, command, exitCode);
      if (exitCode !== 0) {
        throw this.failure(command, exitCode, errors, stderrLines, redactor);
      }
      return captured;
    } catch (error) {
      if (error instanceof TerraformError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new TerraformError(
        redactor.redact(`${this.tool} ${command} could not start: ${reason}`),
        command,
        null,
      );
    } finally {
      clearTimeout(killTimer);
      run.signal?.removeEventListener('abort', onAbort);
    }
  }

  private failure(
    command: string,
    exitCode: number | null,
    errors: InfraLogEntry[],
    stderrLines: string[],
    redactor: Redactor,
  ): TerraformError {
    // The first diagnostic that names a resource is the cause; later ones are consequences.
    const cause = errors.find((e) => e.resource) ?? errors[0];
    if (cause?.diagnostic) {
      const { summary, detail } = cause.diagnostic;
      const where = cause.resource ? ` at ${cause.resource}` : '';
      const text = `${this.tool} ${command} failed${where}: ${summary}${detail ? ` (${detail})` : ''}`;
      return new TerraformError(redactor.redact(text), command, exitCode, cause.resource);
    }
    const tail = stderrLines.slice(-5).join(' ').trim() || `exit code ${String(exitCode)}`;
    return new TerraformError(
      redactor.redact(`${this.tool} ${command} failed: ${tail}`),
      command,
      exitCode,
    );
  }
}

function redactDiagnostic(
  diagnostic: NonNullable<InfraLogEntry['diagnostic']>,
  redactor: Redactor,
): NonNullable<InfraLogEntry['diagnostic']> {
  return {
    severity: diagnostic.severity,
    summary: redactor.redact(diagnostic.summary),
    ...(diagnostic.detail ? { detail: redactor.redact(diagnostic.detail) } : {}),
  };
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function now(): string {
  return new Date().toISOString();
}
