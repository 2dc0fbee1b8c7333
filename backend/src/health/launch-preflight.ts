import { execFile } from 'node:child_process';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { terraformBinary } from '../infra';

/** A program the worker runs during a launch, how to ask its version, and how to get it. */
export interface LaunchTool {
  name: string;
  binary: string;
  versionArgs: string[];
  /** Oldest major.minor that works, read from the first `<major>.<minor>` in the version line. */
  minimum: [number, number];
  install: string;
}

export interface ToolCheck {
  tool: string;
  /** First line the tool printed about its version, when it ran. */
  version: string | null;
  /** Why a launch cannot use it (missing, too old, fails to run); null when it is fine. */
  problem: string | null;
}

export function launchTools(config: AppConfig): LaunchTool[] {
  return [
    {
      name: 'tofu',
      binary: terraformBinary(config.terraformBin),
      versionArgs: ['version'],
      minimum: [1, 6],
      install: 'run npm ci (OpenTofu comes with Fieldstation) or set TERRAFORM_BIN',
    },
    {
      name: 'ansible-playbook',
      binary: 'ansible-playbook',
      versionArgs: ['--version'],
      minimum: [2, 14],
      install: 'sudo apt-get install -y ansible',
    },
    {
      name: 'ssh',
      binary: 'ssh',
      versionArgs: ['-V'],
      minimum: [7, 0],
      install: 'sudo apt-get install -y openssh-client',
    },
  ];
}

const VERSION_TIMEOUT_MS = 15_000;

/** Runs one tool's version command (env decides PATH) and judges what it printed. */
export function checkTool(tool: LaunchTool, env: NodeJS.ProcessEnv): Promise<ToolCheck> {
  return new Promise((resolve) => {
    execFile(
      tool.binary,
      tool.versionArgs,
      { env, timeout: VERSION_TIMEOUT_MS },
      (error, stdout, stderr) => {
        // `ssh -V` answers on stderr; the others on stdout.
        const version =
          `${stdout}\n${stderr}`
            .split('\n')
            .map((line) => line.trim())
            .find(Boolean)
            ?.slice(0, 120) ?? null;
        const fail = (problem: string) => resolve({ tool: tool.name, version, problem });
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          return fail(`${tool.name} is not installed (${tool.binary}): ${tool.install}`);
        }
        if (error) return fail(`${tool.name} does not run (${error.message.split('\n')[0]})`);
        const found = /(\d+)\.(\d+)/.exec(version ?? '');
        if (!found) return fail(`${tool.name} printed no version: "${version ?? ''}"`);
        const [major, minor] = [Number(found[1]), Number(found[2])];
        const [needMajor, needMinor] = tool.minimum;
        if (major < needMajor || (major === needMajor && minor < needMinor)) {
          return fail(
            `${tool.name} ${major}.${minor} is too old (needs ${needMajor}.${needMinor} or newer): ${tool.install}`,
          );
        }
        resolve({ tool: tool.name, version, problem: null });
      },
    );
  });
}

export interface LaunchReadiness {
  ready: boolean;
  tools: ToolCheck[];
}

export async function checkLaunchTools(
  tools: LaunchTool[],
  env: NodeJS.ProcessEnv,
): Promise<LaunchReadiness> {
  const checks = await Promise.all(tools.map((tool) => checkTool(tool, env)));
  return { ready: checks.every((check) => check.problem === null), tools: checks };
}

/** While something is missing, a health request looks again at most this often. */
const RECHECK_MS = 30_000;

/**
 * Checks at start-up that the programs a launch runs are there, logs one line per tool, and
 * keeps the answer for GET /health (`launchReady`), so a missing binary shows before a launch
 * rather than minutes into one. It describes this machine: with `--role api` on a machine
 * without the tools, the worker's own log has the lines that matter.
 */
@Injectable()
export class LaunchPreflight implements OnApplicationBootstrap {
  private readonly logger = new Logger('Preflight');
  private latest?: { at: number; result: Promise<LaunchReadiness> };

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  async onApplicationBootstrap(): Promise<void> {
    const { tools } = await this.check();
    for (const check of tools) {
      if (check.problem) this.logger.warn(check.problem);
      else this.logger.log(`${check.tool}: ${check.version}`);
    }
  }

  /** The last result, checked again when it found a problem and is older than RECHECK_MS. */
  async readiness(): Promise<LaunchReadiness> {
    const latest = this.latest;
    if (latest && (Date.now() - latest.at < RECHECK_MS || (await latest.result).ready)) {
      return latest.result;
    }
    return this.check();
  }

  private check(): Promise<LaunchReadiness> {
    const result = checkLaunchTools(launchTools(this.config), process.env);
    this.latest = { at: Date.now(), result };
    return result;
  }
}
