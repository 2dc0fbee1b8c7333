import { randomUUID } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import {
  DATABASE_NAME,
  type DatabaseChoice,
  renderReadingAlertsFile,
  PROCESSOR_BUILD_FILES,
  readingsRetentionCommand,
  renderStack,
  type StackSpec,
  revocationListStackPath,
} from '@fieldstation/platform-stack';
import type { ImageSupply } from '../config/app-config';
import type { AnsibleLogEntry } from './ansible-events';
import {
  dataVolumeUsageCommand,
  parseDataVolumeUsage,
  type DataVolumeUsage,
} from './data-volume-usage';
import { AnsibleInputError, AnsibleRunError } from './ansible-errors';
import { type ContainerRow, parseContainerRow } from './container-rows';
import { type AnsibleRunResult, AnsibleRunner } from './ansible-runner';
import { type RestoreDrillFigures, restoreDrillPlan } from './restore-drill-plan';
import { SshClient, type SshSession, type SshTarget } from './ssh-client';
import {
  parseStoredReadings,
  STORED_READINGS_MAX,
  type StoredReading,
  storedReadingsCommand,
} from './stored-readings';

export const PLATFORM_HOST_OPTIONS = Symbol('PLATFORM_HOST_OPTIONS');

export interface PlatformHostOptions {
  /** The `@fieldstation/processor` package dir holding `Dockerfile` and the built `dist/`. */
  processorPackageDir: string;
  /** Mount point of the data volume on every host; platforms live below `<hostRoot>/platforms/`. */
  hostRoot?: string;
  /** The Docker daemon on the host (`DOCKER_HOST`); the system socket by default. */
  dockerHost?: string;
  /** Start/enable the host's docker service (off when the daemon is managed elsewhere). */
  manageDockerService?: boolean;
  /** How long launch waits for every service's health check. */
  healthTimeoutSeconds?: number;
}

/** What every operation on a platform's host needs. */
export interface PlatformOperation {
  /** The platform's id: lowercase letters, digits and "-" (a UUID fits). Names its dir and project. */
  platformId: string;
  target: SshTarget;
  /** Structured Ansible progress, for the deployment log. */
  onEvent?: (entry: AnsibleLogEntry) => void;
  signal?: AbortSignal;
}

export interface LaunchRequest extends PlatformOperation {
  /** `dataPath` and `images.processor` are replaced by the platform's own (see {@link placeSpec}). */
  spec: StackSpec;
  images: ImageSupply;
  /** Block device of the data volume (formatted only when blank, mounted at the host root). */
  dataDevice?: string;
  /** Days of readings kept (applied once the services are healthy); null or absent: all. */
  readingsRetentionDays?: number | null;
}

export interface UpdateProcessorRequest extends PlatformOperation {
  /** The platform's spec with the new `processor.scriptSource` / `processor.packages`. */
  spec: StackSpec;
}

export interface ReadingAlertsRequest extends PlatformOperation {
  /** The platform's spec: its database, TLS, Grafana port, admin password and `readingAlerts`. */
  spec: StackSpec;
}

export interface DumpRequest extends PlatformOperation {
  database: DatabaseChoice;
}

export interface RestoreDrillRequest extends PlatformOperation {
  /** The platform's database: which {@link restoreDrillPlan} loads the dump. */
  database: DatabaseChoice;
  /**
   * The dump (plaintext, as dump.yml writes it) in a file on the host, already verified (e.g.
   * written by {@link PlatformHost.openDrillUpload}): the loader reads it on stdin.
   */
  dumpPath: string;
  /** Progress for the deployment log. */
  log: (message: string) => Promise<void>;
}

/** A file being written on the platform's host over SFTP. */
export interface HostUpload {
  stream: Writable;
  /** Where it is on the host. */
  path: string;
  /** Deletes it (a stream that did not verify, or a drill's dump once loaded). */
  discard: () => Promise<void>;
}

export interface ReadingsRetentionRequest extends PlatformOperation {
  database: DatabaseChoice;
  /** Whole days 1..3650, or null to keep readings for ever (checked again when rendered). */
  days: number | null;
}

export interface RestoreRequest extends PlatformOperation {
  spec: StackSpec;
  /**
   * A dump file on this machine, made by {@link PlatformHost.dump} of the same database type;
   * undefined: the one already written on the host by {@link PlatformHost.openRestoreUpload}.
   */
  dumpFile?: string;
  /**
   * The platform's readings retention, applied again after the restore: a dump carries the
   * retention of the database it was made from (policy, TTL, pruning setting).
   */
  readingsRetentionDays: number | null;
}

export interface ReadingsRequest extends PlatformOperation {
  database: DatabaseChoice;
  /** 1..{@link STORED_READINGS_MAX}: how many of the newest readings to return. */
  limit: number;
}

export interface TeardownRequest extends PlatformOperation {
  /** Also delete the platform's data and dumps (otherwise they stay on the host). */
  removeData: boolean;
}

/** `hostKey` is the verified key: on first contact the caller stores its fingerprint. */
export type PlatformRunResult = AnsibleRunResult;

/** What runs of a platform on its host, as `docker` and the processor report it. */
export interface PlatformHostStatus {
  services: Omit<ContainerRow, 'id'>[];
  /** The processor's `/status` answer (counters, last reading, queue depth); null if unreadable. */
  processor: Record<string, unknown> | null;
  /**
   * The processor's per-device figures (`GET /devices`), read in the same session right after
   * `/status`; null when the processor was not read or its answer exceeded
   * {@link PROCESSOR_DEVICES_MAX_BYTES}.
   */
  processorDevices: Record<string, ProcessorDeviceFigures> | null;
  /** The data volume's use (`df` on the platform's data path); null if unreadable. */
  disk: DataVolumeUsage | null;
}

/** Where one platform lives on its host. */
export interface PlatformLayout {
  /** `<hostRoot>/platforms/<id>` */
  platformDir: string;
  /** The compose project directory: compose file, `.env`, configs, processor build context. */
  stackDir: string;
  /** The spec's `dataPath`: every service's data. */
  dataPath: string;
  dumpsDir: string;
  composeProject: string;
  /** The processor image built on the host for this platform alone. */
  processorImage: string;
  /** Where update-processor keeps the running image while it checks a new script. */
  processorRollbackImage: string;
}

/** Run inside the processor container: prints its status endpoint's JSON. */
const PROCESSOR_STATUS_SCRIPT =
  "fetch('http://127.0.0.1:8080/status').then((r) => r.text()).then((t) => process.stdout.write(t))";

/** Run inside the processor container: prints its per-device figures (`GET /devices`). */
const PROCESSOR_DEVICES_SCRIPT =
  "fetch('http://127.0.0.1:8080/devices').then((r) => r.text()).then((t) => process.stdout.write(t))";

/** One device's figures as the processor counts them (its status port's `GET /devices`). */
export interface ProcessorDeviceFigures {
  lastReadingAt: string;
  readingsLastHour: number;
}

/**
 * The most of `GET /devices` a health check reads: the processor keeps figures for at most
 * 10,000 devices (about 90 bytes each in JSON), so 2 MB holds them all with room; a larger answer
 * is dropped (figures unknown) rather than buffered without bound.
 */
export const PROCESSOR_DEVICES_MAX_BYTES = 2 * 1024 * 1024;

const PLATFORM_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** check-script.yml's task that stops a launch or an update whose script does not load. */
const SCRIPT_REFUSED_TASK = 'Refuse the script (it does not load)';
/** check-script.yml's task that stops when the check itself failed (Docker, a full disk). */
const SCRIPT_CHECK_FAILED_TASK = 'Stop (the script check could not run)';
/** processor.yml's build task: when it fails, the running processor's image is untouched. */
const PROCESSOR_BUILD_TASK = "Build the processor image with the script's npm packages";
/**
 * The build failed in its `npm install` step (the classic builder's and BuildKit's words): only
 * then are the script's packages to blame, not for a Docker or disk failure of the same task.
 */
const NPM_INSTALL_FAILED =
  /npm install[^\n]*(returned a non-zero code|did not complete successfully)/;

/** A processor update whose new script does not load: the running processor was kept. */
export class ProcessorScriptRefusedError extends Error {
  override readonly name = 'ProcessorScriptRefusedError';
  constructor(detail: string) {
    super(
      `${detail.replace(/\.?$/, '.')} The previous script keeps running; fix it and update again.`,
    );
  }
}
/**
 * A launch stopped before the stack started because its script does not load (or its packages do
 * not install). The message is the processor's own; the platform takes a fixed script and a retry.
 */
export class ProcessorScriptLoadError extends Error {
  override readonly name = 'ProcessorScriptLoadError';
  constructor(detail: string) {
    super(
      `${detail.replace(/\.?$/, '.')} Fix the script on the Processing script tab and save it: the launch resumes.`,
    );
  }
}

/** restore.yml loads `<dumps>/restore-upload`: uploaded there by Ansible or by SFTP. */
const RESTORE_UPLOAD = 'restore-upload';
/** A restore drill's dump, verified into this file before it is loaded into the scratch container. */
const DRILL_UPLOAD = 'drill-upload';
/** Kept free beside a dump written to the host: the platform's database shares the disk. */
const SPARE_BYTES = 256 * 2 ** 20;

/** Runs "$2" and on with the file "$1" on stdin. Fixed text; the path and command are arguments. */
const FEED_FILE = 'file=$1; shift; exec "$@" < "$file"';

/**
 * Writes stdin to "$1": to a fresh temporary file beside it, made readable (the broker, uid 999,
 * only reads it), then renamed over it. Root creates and renames without following a link a
 * process of uid 999 (which owns `rabbitmq/`) might plant, and gives nothing to that uid. Fixed
 * text; the path comes as an argument.
 */
const WRITE_REVOCATION_LIST = [
  'set -eu',
  'dir=$(dirname "$1")',
  'mkdir -p "$dir"',
  'tmp=$(mktemp "$dir/.crl.XXXXXX")',
  'trap \'rm -f "$tmp"\' EXIT',
  'cat > "$tmp"',
  'chmod 0644 "$tmp"',
  'mv -f "$tmp" "$1"',
].join('\n');

function assertDumpPath(remotePath: string): void {
  const inDumps = /^\/[^\s]*\/platforms\/[a-z0-9-]+\/dumps\/[A-Za-z0-9.-]+$/;
  if (!inDumps.test(remotePath) || remotePath.includes('..')) {
    throw new AnsibleInputError(`not a platform dump: "${remotePath}"`);
  }
}

/** Whether {@link PlatformHost.streamDump} can stream this database's dump (one `pg_dump`). */
export function streamsDump(database: DatabaseChoice): boolean {
  return database === 'postgres' || database === 'timescaledb';
}

export const DUMP_EXTENSIONS: Record<DatabaseChoice, string> = {
  postgres: 'pgdump',
  timescaledb: 'pgdump',
  influxdb: 'influx.tar',
  mongodb: 'archive.gz',
};

/**
 * The one service that puts platforms onto hosts and operates them there (launch, processor
 * update, dump, restore, teardown), each by running one playbook through {@link AnsibleRunner}.
 * Secrets travel only in rendered files (0600, in a 0700 temp dir deleted in `finally`).
 */
@Injectable()
export class PlatformHost {
  private readonly hostRoot: string;
  private readonly dockerHost: string;

  constructor(
    private readonly ansible: AnsibleRunner,
    private readonly ssh: SshClient,
    @Inject(PLATFORM_HOST_OPTIONS) private readonly options: PlatformHostOptions,
  ) {
    this.hostRoot = options.hostRoot ?? '/srv/fieldstation';
    this.dockerHost = options.dockerHost ?? 'unix:///var/run/docker.sock';
  }

  layout(platformId: string): PlatformLayout {
    if (!PLATFORM_ID.test(platformId)) {
      throw new AnsibleInputError(`invalid platform id "${platformId}"`);
    }
    const platformDir = posix.join(this.hostRoot, 'platforms', platformId);
    return {
      platformDir,
      stackDir: `${platformDir}/stack`,
      dataPath: `${platformDir}/data`,
      dumpsDir: `${platformDir}/dumps`,
      composeProject: `fieldstation-${platformId}`,
      processorImage: `fieldstation-processor/${platformId}:current`,
      processorRollbackImage: `fieldstation-processor/${platformId}:previous`,
    };
  }

  /** The spec as it runs on the host: the platform's own data path and processor image. */
  placeSpec(platformId: string, spec: StackSpec): StackSpec {
    const layout = this.layout(platformId);
    return {
      ...spec,
      dataPath: layout.dataPath,
      images: { ...spec.images, processor: layout.processorImage },
    };
  }

  /**
   * Prepares the host, supplies the images, copies the stack, builds, checks that the script
   * loads, starts, waits for health. Throws ProcessorScriptLoadError when the script does not load or its packages do not install:
   * nothing was started then.
   */
  async launch(request: LaunchRequest): Promise<PlatformRunResult> {
    try {
      return await this.runLaunch(request);
    } catch (error) {
      if (error instanceof AnsibleRunError && error.task?.endsWith(SCRIPT_REFUSED_TASK)) {
        throw new ProcessorScriptLoadError(error.detail);
      }
      if (
        error instanceof AnsibleRunError &&
        error.task?.endsWith(PROCESSOR_BUILD_TASK) &&
        NPM_INSTALL_FAILED.test(error.detail)
      ) {
        throw new ProcessorScriptLoadError(
          `The script's npm packages do not install: ${error.detail}`,
        );
      }
      throw error;
    }
  }

  private runLaunch(request: LaunchRequest): Promise<PlatformRunResult> {
    const spec = this.placeSpec(request.platformId, request.spec);
    const supply = request.images;
    return this.withRenderedStack(spec, (source) =>
      this.run('launch.yml', request, {
        ...this.stackVars(request.platformId, spec, source),
        ...(request.readingsRetentionDays != null
          ? retentionVars(spec.database, request.readingsRetentionDays)
          : {}),
        fieldstation_host_data_device: request.dataDevice ?? '',
        fieldstation_host_data_mount: this.hostRoot,
        fieldstation_host_docker_manage_service: this.options.manageDockerService ?? true,
        fieldstation_images_source: supply.source,
        fieldstation_images_archives: supply.source === 'offline' ? supply.archives : [],
        fieldstation_images_required: [
          spec.images.rabbitmq,
          spec.images[spec.database === 'mongodb' ? 'mongodb' : spec.database],
          spec.images.grafana,
          spec.images.node,
        ],
      }),
    );
  }

  /**
   * Replaces the script and packages, rebuilds the processor image and restarts only it.
   * Throws ProcessorScriptRefusedError when the new script does not load or its packages do not
   * install: nothing was replaced then.
   */
  async updateProcessor(request: UpdateProcessorRequest): Promise<PlatformRunResult> {
    const spec = this.placeSpec(request.platformId, request.spec);
    try {
      return await this.withRenderedStack(spec, (source) =>
        this.run('update-processor.yml', request, this.stackVars(request.platformId, spec, source)),
      );
    } catch (error) {
      // Ansible names a role's task "<role> : <name>". Either way the check failed, the host put
      // the running image and script back, and the record follows it.
      if (
        error instanceof AnsibleRunError &&
        (error.task?.endsWith(SCRIPT_REFUSED_TASK) ||
          error.task?.endsWith(SCRIPT_CHECK_FAILED_TASK))
      ) {
        throw new ProcessorScriptRefusedError(error.detail);
      }
      if (error instanceof AnsibleRunError && error.task?.endsWith(PROCESSOR_BUILD_TASK)) {
        throw new ProcessorScriptRefusedError(
          `The script's npm packages do not install: ${error.detail}`,
        );
      }
      throw error;
    }
  }

  /**
   * Sets how long the running database keeps readings (readings-retention.yml): one command in
   * the database container; nothing else is touched or restarted.
   */
  async applyReadingsRetention(request: ReadingsRetentionRequest): Promise<PlatformRunResult> {
    return this.run('readings-retention.yml', request, {
      ...this.layoutVars(this.layout(request.platformId)),
      fieldstation_stack_database: request.database,
      ...retentionVars(request.database, request.days),
    });
  }

  /**
   * Replaces Grafana's alerting provisioning of the readings' thresholds (reading-alerts.yml) and
   * makes the running Grafana reload it through its admin API on the host's loopback. The spec's
   * deleted uids (kept by Fieldstation until a reload took them) become `deleteRules`. Nothing
   * restarts.
   */
  async applyReadingAlerts(request: ReadingAlertsRequest): Promise<PlatformRunResult> {
    const { spec } = request;
    if (spec.ports.grafana === null) {
      throw new AnsibleInputError("Grafana's port is not published on the host: nothing to reload");
    }
    const layout = this.layout(request.platformId);
    const content = renderReadingAlertsFile(
      spec.database,
      spec.readingAlerts ?? [],
      spec.deletedReadingAlertUids ?? [],
    );
    return this.run('reading-alerts.yml', request, {
      ...this.layoutVars(layout),
      fieldstation_stack_reading_alerts_base64: Buffer.from(content).toString('base64'),
      fieldstation_stack_grafana_url: `${spec.tls ? 'https' : 'http'}://127.0.0.1:${spec.ports.grafana}`,
      fieldstation_stack_grafana_admin_password: spec.secrets.grafanaAdminPassword,
    });
  }

  /** Writes a consistent dump of the platform's database into one file on the host. */
  async dump(request: DumpRequest): Promise<PlatformRunResult & { remotePath: string }> {
    const layout = this.layout(request.platformId);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, 'Z');
    const remotePath = `${layout.dumpsDir}/${request.database}-${stamp}.${DUMP_EXTENSIONS[request.database]}`;
    const result = await this.run('dump.yml', request, {
      ...this.layoutVars(layout),
      fieldstation_stack_database: request.database,
      fieldstation_stack_dump_path: remotePath,
    });
    return { ...result, remotePath };
  }

  /** Streams a dump file from the host (SFTP); the connection closes when the stream ends. */
  async openDump(target: SshTarget, remotePath: string): Promise<Readable> {
    assertDumpPath(remotePath);
    const session = await this.ssh.connect(target);
    try {
      const stream = await session.download(remotePath);
      stream.once('close', () => session.close());
      stream.once('error', () => session.close());
      return stream;
    } catch (error) {
      session.close();
      throw error;
    }
  }

  /** Deletes a dump from the host (a scheduled backup's, once it is in the bucket). */
  async removeDump(target: SshTarget, remotePath: string): Promise<void> {
    assertDumpPath(remotePath);
    const session = await this.ssh.connect(target);
    try {
      await session.removeFile(remotePath);
    } finally {
      session.close();
    }
  }

  /**
   * Replaces the broker's revocation list (CRL) of a running platform, which the broker reads on
   * the next TLS connection (no restart). The stack directory is root's: one fixed `sudo -n sh`
   * script writes the list from stdin beside the old one, hands it to the broker's user and
   * renames it over, so the broker never reads half a file; the path is an argument.
   */
  async writeRevocationList(
    target: SshTarget,
    platformId: string,
    caCertificatePem: string,
    revocationListPem: string,
  ): Promise<void> {
    const path = `${this.layout(platformId).stackDir}/${revocationListStackPath(caCertificatePem)}`;
    const session = await this.ssh.connect(target);
    try {
      await session.run(
        ['sudo', '-n', 'sh', '-c', WRITE_REVOCATION_LIST, 'sh', path],
        undefined,
        revocationListPem,
      );
    } finally {
      session.close();
    }
  }

  /**
   * Opens the platform's restore file on the host for writing (SFTP), for a dump of `bytes` that
   * streams in from elsewhere (a backup in a bucket); {@link restore} without `dumpFile` then
   * loads it. `discard` deletes it (a stream that did not verify); the connection closes with
   * either. Refused when the host has no room for it beside the database's own.
   */
  openRestoreUpload(target: SshTarget, platformId: string, bytes: number): Promise<HostUpload> {
    return this.openUpload(target, platformId, RESTORE_UPLOAD, bytes);
  }

  /**
   * Opens the file for a restore drill's dump of `bytes` in the platform's dumps directory (SFTP):
   * the backup is verified into it whole before {@link restoreDrill} loads it (`path`). One name
   * per platform (its deployments never overlap): a drill cut off by a crash leaves no second
   * copy behind, the next one overwrites it.
   */
  openDrillUpload(target: SshTarget, platformId: string, bytes: number): Promise<HostUpload> {
    return this.openUpload(target, platformId, DRILL_UPLOAD, bytes);
  }

  private async openUpload(
    target: SshTarget,
    platformId: string,
    fileName: string,
    bytes: number,
  ): Promise<HostUpload> {
    const { dumpsDir } = this.layout(platformId);
    const remotePath = `${dumpsDir}/${fileName}`;
    const session = await this.ssh.connect(target);
    try {
      await session.run([
        'sudo',
        '-n',
        'install',
        '-d',
        '-o',
        target.username,
        '-m',
        '0700',
        dumpsDir,
      ]);
      await this.ensureRoomFor(session, dumpsDir, bytes);
      const stream = await session.upload(remotePath);
      stream.once('close', () => session.close());
      stream.once('error', () => session.close());
      return {
        stream,
        path: remotePath,
        discard: async () => {
          const cleanup = await this.ssh.connect(target);
          try {
            await cleanup.removeFile(remotePath);
          } finally {
            cleanup.close();
          }
        },
      };
    } catch (error) {
      session.close();
      throw error;
    }
  }

  /**
   * Refuses to write `bytes` into `dir` unless the host keeps {@link SPARE_BYTES} free beside them:
   * the platform's database lives on the same disk, and a dump that fills it stops ingest. The
   * size comes from the manifest in the bucket, which Measure's limit then holds the stream to.
   */
  private async ensureRoomFor(session: SshSession, dir: string, bytes: number): Promise<void> {
    let output = '';
    await session.run(dataVolumeUsageCommand(dir), ({ stream, line }) => {
      if (stream === 'stdout') output += `${line}\n`;
    });
    const usage = parseDataVolumeUsage(output);
    if (!usage) {
      throw new Error(
        `Could not read the free space of ${dir} on the host (df said: ${output.trim() || 'nothing'})`,
      );
    }
    const available = usage.bytesFree;
    if (bytes + SPARE_BYTES > available) {
      const mib = (value: number) => `${Math.ceil(value / 2 ** 20)} MiB`;
      throw new Error(
        `The host has ${mib(available)} free in ${dir}; the dump needs ${mib(bytes)} and ${mib(SPARE_BYTES)} stay free for the platform's database. Free space on the host (or grow its volume) and try again`,
      );
    }
  }

  /**
   * The platform's containers and its processor's status, read over SSH with fixed commands
   * (`docker ps` by compose label, the processor's status endpoint from inside its container).
   */
  async status(request: PlatformOperation): Promise<PlatformHostStatus> {
    const { composeProject, dataPath } = this.layout(request.platformId);
    const docker = this.dockerCommand();
    const session = await this.ssh.connect(request.target);
    try {
      let dfOutput = '';
      const disk = await session
        .run(dataVolumeUsageCommand(dataPath), ({ stream, line }) => {
          if (stream === 'stdout') dfOutput += `${line}\n`;
        })
        .then(
          () => parseDataVolumeUsage(dfOutput),
          () => null,
        );
      const containers: ContainerRow[] = [];
      await session.run(
        [
          ...docker,
          'ps',
          '--all',
          '--filter',
          `label=com.docker.compose.project=${composeProject}`,
          '--format',
          '{{json .}}',
        ],
        ({ stream, line }) => {
          if (stream !== 'stdout') return;
          const container = parseContainerRow(line);
          if (container) containers.push(container);
        },
      );
      const processor = containers.find((container) => container.service === 'processor');
      let status: Record<string, unknown> | null = null;
      if (processor?.state === 'running') {
        let output = '';
        await session
          .run(
            [...docker, 'exec', processor.id, 'node', '-e', PROCESSOR_STATUS_SCRIPT],
            ({ stream, line }) => {
              if (stream === 'stdout') output += line;
            },
          )
          .then(() => (status = JSON.parse(output) as Record<string, unknown>))
          .catch(() => undefined);
      }
      const processorDevices =
        status && processor
          ? await readProcessorDevices(session, [...docker, 'exec', processor.id])
          : null;
      return {
        services: containers.map(({ service, state, health }) => ({ service, state, health })),
        processor: status,
        processorDevices,
        disk,
      };
    } finally {
      session.close();
    }
  }

  /**
   * The processor's per-device figures (last stored reading, readings in the last hour), read
   * over one SSH connection with fixed commands: the running processor container by compose
   * label, then its status port's `/devices` from inside it, read as the health check reads it
   * ({@link readProcessorDevices}). Null when no processor runs or its answer is unreadable.
   */
  async processorDevices(
    request: PlatformOperation,
  ): Promise<Record<string, ProcessorDeviceFigures> | null> {
    const { composeProject } = this.layout(request.platformId);
    const session = await this.ssh.connect(request.target);
    try {
      const containers = await this.runningContainers(session, composeProject, 'processor');
      if (containers.length !== 1) return null;
      return await readProcessorDevices(session, [...this.dockerCommand(), 'exec', containers[0]!]);
    } finally {
      session.close();
    }
  }

  /**
   * The newest readings, read over SSH by a fixed query per database kind that the database's own
   * CLI runs inside its container (`docker exec`): no database port is published for it, and
   * nothing from the request reaches the command (the query always reads the newest
   * {@link STORED_READINGS_MAX}; `limit` cuts the answer here).
   */
  async readings(request: ReadingsRequest): Promise<StoredReading[]> {
    if (
      !Number.isInteger(request.limit) ||
      request.limit < 1 ||
      request.limit > STORED_READINGS_MAX
    ) {
      throw new AnsibleInputError(`invalid readings limit ${request.limit}`);
    }
    const { composeProject } = this.layout(request.platformId);
    const session = await this.ssh.connect(request.target);
    try {
      const container = await this.databaseContainer(session, composeProject);
      const stdout: string[] = [];
      await session.run(
        [...this.dockerCommand(), 'exec', container, ...storedReadingsCommand(request.database)],
        ({ stream, line }) => {
          if (stream === 'stdout') stdout.push(line);
        },
      );
      return parseStoredReadings(request.database, stdout, request.limit);
    } finally {
      session.close();
    }
  }

  /**
   * Streams a PostgreSQL/TimescaleDB dump (custom format, as {@link dump} writes it) straight from
   * `pg_dump` in the database container over one SSH channel: no playbook, no file on the host.
   * The stream fails unless `pg_dump` exited 0; the connection closes with the stream. Other
   * databases' dumps are not one command's output ({@link streamsDump}): use {@link dump}.
   */
  async streamDump(request: DumpRequest): Promise<Readable> {
    if (!streamsDump(request.database)) {
      throw new AnsibleInputError(`no streamed dump for ${request.database}`);
    }
    const { composeProject } = this.layout(request.platformId);
    const session = await this.ssh.connect(request.target, undefined, request.signal);
    try {
      const container = await this.databaseContainer(session, composeProject);
      const stream = await session.streamOutput([
        ...this.dockerCommand(),
        'exec',
        container,
        'pg_dump',
        '--username=postgres',
        '--format=custom',
        // zlib level 1: half the CPU of the default level 6 for ~9 % more bytes (1 GB of
        // readings: 9.1 s and 267 MiB against 16.9 s and 244 MiB), and the host is ingesting
        // while its backup runs. `pg_restore` reads every level.
        '--compress=1',
        DATABASE_NAME,
      ]);
      stream.once('close', () => session.close());
      return stream;
    } catch (error) {
      session.close();
      throw error;
    }
  }

  /**
   * A restore drill: a scratch container `fs-drill-<uuid>` started from the image of the
   * platform's own database container (no network; commands on its loopback or socket), the verified
   * dump file on the host (`dumpPath`) fed to the database's own loader, then the restored readings
   * counted; the commands are the database's {@link restoreDrillPlan}. The platform's database is
   * only looked at (its image). The container and its volume are removed in `finally`, over a
   * fresh connection, also when the drill failed or was cancelled (the signal may have closed the
   * first one).
   */
  async restoreDrill(request: RestoreDrillRequest): Promise<RestoreDrillFigures> {
    const plan = restoreDrillPlan(request.database);
    if (!plan) throw new AnsibleInputError(`no restore drill for ${request.database}`);
    const { composeProject } = this.layout(request.platformId);
    const docker = this.dockerCommand();
    const scratch = `fs-drill-${randomUUID()}`;
    const session = await this.ssh.connect(request.target, undefined, request.signal);
    const closeOnAbort = () => session.close();
    request.signal?.addEventListener('abort', closeOnAbort, { once: true });
    let scratchCreated = false;
    try {
      const database = await this.databaseContainer(session, composeProject);
      let image = '';
      await session.run(
        [...docker, 'inspect', '--format', '{{.Config.Image}}', database],
        ({ stream, line }) => {
          if (stream === 'stdout' && line.trim()) image = line.trim();
        },
      );
      if (!image) throw new Error("Could not read the image of the platform's database");
      await request.log(`Starting scratch container ${scratch} from ${image}`);
      scratchCreated = true;
      await session.run([
        ...docker,
        'run',
        '--detach',
        '--name',
        scratch,
        '--label',
        `fieldstation.drill-of=${request.platformId}`,
        '--network',
        'none',
        ...plan.runOptions,
        image,
      ]);
      const inScratch = (command: string[]) => [...docker, 'exec', scratch, ...command];
      await session.run(inScratch(plan.ready));
      for (const command of plan.prepare) await session.run(inScratch(command));
      await request.log(
        `Loading the verified dump on the host into ${plan.loaderName} in the scratch container`,
      );
      await session.run([
        'sh',
        '-c',
        FEED_FILE,
        'sh',
        request.dumpPath,
        ...docker,
        'exec',
        '--interactive',
        scratch,
        ...plan.load,
      ]);
      for (const command of plan.finish) await session.run(inScratch(command));
      let output = '';
      await session.run(inScratch(plan.figures), ({ stream, line }) => {
        if (stream === 'stdout') output += `${line}\n`;
      });
      const figures = plan.parseFigures(output);
      await this.removeScratch(request.target, scratch);
      scratchCreated = false;
      return figures;
    } catch (error) {
      if (!scratchCreated) throw error;
      // The drill's own failure stays the message; a failed removal is added to it.
      const leftOver = await this.removeScratch(request.target, scratch).then(
        () => '',
        (failure: Error) => `; removing ${scratch} failed too: ${failure.message}`,
      );
      if (!leftOver) throw error;
      throw new Error(`${error instanceof Error ? error.message : String(error)}${leftOver}`);
    } finally {
      request.signal?.removeEventListener('abort', closeOnAbort);
      session.close();
    }
  }

  /** Removes a drill's scratch container and its volume; one never created is fine. */
  private async removeScratch(target: SshTarget, scratch: string): Promise<void> {
    const cleanup = await this.ssh.connect(target);
    try {
      await cleanup.run([...this.dockerCommand(), 'rm', '--force', '--volumes', scratch]);
    } catch (error) {
      if (!(error instanceof Error && /No such container/.test(error.message))) throw error;
    } finally {
      cleanup.close();
    }
  }

  /** The id of the platform's one database container; throws when it is not running. */
  private async databaseContainer(session: SshSession, composeProject: string): Promise<string> {
    const containers = await this.runningContainers(session, composeProject, 'database');
    if (containers.length !== 1) {
      throw new Error(`The platform's database is not running (${containers.length} containers)`);
    }
    return containers[0]!;
  }

  /**
   * The ids of the platform's running containers of one compose service, found by the labels
   * compose sets (`docker ps` on the host; fixed arguments): one while the service runs.
   */
  async runningContainers(
    session: SshSession,
    composeProject: string,
    service: 'database' | 'processor',
  ): Promise<string[]> {
    const containers: string[] = [];
    await session.run(
      [
        ...this.dockerCommand(),
        'ps',
        '--quiet',
        '--filter',
        `label=com.docker.compose.project=${composeProject}`,
        '--filter',
        `label=com.docker.compose.service=${service}`,
        '--filter',
        'status=running',
      ],
      ({ stream, line }) => {
        if (stream === 'stdout' && line.trim()) containers.push(line.trim());
      },
    );
    return containers;
  }

  /** The host's Docker CLI as root, at the platforms' Docker daemon: `sudo -n env DOCKER_HOST=… docker`. */
  dockerCommand(): string[] {
    return ['sudo', '-n', 'env', `DOCKER_HOST=${this.dockerHost}`, 'docker'];
  }

  /** Loads a dump into the platform's database (replacing its content) while the processor waits. */
  async restore(request: RestoreRequest): Promise<PlatformRunResult> {
    const layout = this.layout(request.platformId);
    return this.run('restore.yml', request, {
      ...this.layoutVars(layout),
      fieldstation_stack_database: request.spec.database,
      fieldstation_stack_restore_file: request.dumpFile ?? '',
      ...retentionVars(request.spec.database, request.readingsRetentionDays),
    });
  }

  /** Stops and removes the platform's containers, networks and processor image; keeps the host. */
  async teardown(request: TeardownRequest): Promise<PlatformRunResult> {
    return this.run('teardown.yml', request, {
      ...this.layoutVars(this.layout(request.platformId)),
      fieldstation_stack_remove_data: request.removeData,
    });
  }

  private run(
    playbook: string,
    request: PlatformOperation,
    vars: Record<string, unknown>,
  ): Promise<PlatformRunResult> {
    const defined = Object.fromEntries(
      Object.entries({
        ...vars,
        fieldstation_host_docker_host: this.dockerHost,
      }).filter(([, value]) => value !== undefined),
    );
    return this.ansible.run({
      playbook,
      target: request.target,
      vars: defined,
      onEvent: request.onEvent,
      signal: request.signal,
    });
  }

  private layoutVars(layout: PlatformLayout): Record<string, unknown> {
    return {
      fieldstation_stack_platform_dir: layout.platformDir,
      fieldstation_stack_dir: layout.stackDir,
      fieldstation_stack_dumps_dir: layout.dumpsDir,
      fieldstation_stack_data_path: layout.dataPath,
      fieldstation_stack_project: layout.composeProject,
      fieldstation_stack_processor_image: layout.processorImage,
      fieldstation_stack_processor_rollback_image: layout.processorRollbackImage,
    };
  }

  private stackVars(platformId: string, spec: StackSpec, source: string): Record<string, unknown> {
    return {
      ...this.layoutVars(this.layout(platformId)),
      fieldstation_stack_source: source,
      fieldstation_stack_database: spec.database,
      fieldstation_stack_data_directories: renderStack(spec).dataDirectories,
      fieldstation_stack_health_timeout: this.options.healthTimeoutSeconds ?? 600,
    };
  }

  /**
   * Renders the stack into a 0700 temp dir: `stack/` (compose, `.env`, configs) and `processor/`
   * (the build context: the processor package's files plus the rendered script). Deleted after.
   */
  private async withRenderedStack<T>(
    spec: StackSpec,
    use: (source: string) => Promise<T>,
  ): Promise<T> {
    const source = await mkdtemp(join(tmpdir(), 'fieldstation-stack-'));
    try {
      for (const file of renderStack(spec).files) {
        const path = file.path.startsWith('processor/')
          ? join(source, file.path)
          : join(source, 'stack', file.path);
        await mkdir(dirname(path), { recursive: true, mode: 0o755 });
        await writeFile(path, file.content, { mode: file.mode });
        // The server runs with umask 077; the playbook copies modes as they are (`preserve`).
        await chmod(path, file.mode);
      }
      for (const file of PROCESSOR_BUILD_FILES) {
        const path = join(source, 'processor', file);
        await mkdir(dirname(path), { recursive: true, mode: 0o755 });
        await copyFile(join(this.options.processorPackageDir, file), path);
        await chmod(path, 0o644);
      }
      return await use(source);
    } finally {
      await rm(source, { recursive: true, force: true });
    }
  }
}

/** The retention command as playbook variables (data in the vars file, never a command line). */
function retentionVars(database: DatabaseChoice, days: number | null): Record<string, unknown> {
  const { argv, stdin } = readingsRetentionCommand(database, days);
  return { fieldstation_stack_retention_argv: argv, fieldstation_stack_retention_stdin: stdin };
}

/**
 * The running processor's `GET /devices` (a fixed command through `exec`), at most
 * {@link PROCESSOR_DEVICES_MAX_BYTES}; entries not shaped as figures are left out. Null when
 * unreadable or too large: the figures are then unknown, never guessed.
 */
async function readProcessorDevices(
  session: SshSession,
  exec: string[],
): Promise<Record<string, ProcessorDeviceFigures> | null> {
  let output = '';
  let tooLarge = false;
  const read = await session
    .run([...exec, 'node', '-e', PROCESSOR_DEVICES_SCRIPT], ({ stream, line }) => {
      if (stream !== 'stdout' || tooLarge) return;
      if (output.length + line.length > PROCESSOR_DEVICES_MAX_BYTES) {
        tooLarge = true;
        output = '';
      } else output += line;
    })
    .then(
      () => true,
      () => false,
    );
  if (!read || tooLarge) return null;
  try {
    const answer = JSON.parse(output) as { devices?: unknown };
    if (typeof answer.devices !== 'object' || answer.devices === null) return null;
    const figures: Record<string, ProcessorDeviceFigures> = {};
    for (const [device, value] of Object.entries(answer.devices)) {
      const { lastReadingAt, readingsLastHour } = (value ?? {}) as Record<string, unknown>;
      if (typeof lastReadingAt !== 'string' || Number.isNaN(Date.parse(lastReadingAt))) continue;
      if (typeof readingsLastHour !== 'number') continue;
      figures[device] = { lastReadingAt, readingsLastHour };
    }
    return figures;
  } catch {
    return null;
  }
}
