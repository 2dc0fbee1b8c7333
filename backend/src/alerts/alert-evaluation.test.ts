import { describe, expect, it } from 'vitest';
import type { PlatformMetricSample } from '../metrics/platform-metric-sample.entity';
import { metricSample } from '../metrics/testing/metric-sample';
import {
  evaluateRule,
  nextState,
  type DeviceActivity,
  type RuleCondition,
  type RuleState,
} from './alert-evaluation';

const T0 = Date.UTC(2026, 11, 2, 4, 0);
const at = (minute: number) => new Date(T0 + minute * 60_000);
const started = at(-600);

function sample(minute: number, fields: Partial<PlatformMetricSample> = {}): PlatformMetricSample {
  return metricSample(at(minute), started, fields);
}

const rule = (fields: Partial<RuleCondition>): RuleCondition => ({
  kind: 'platform-unhealthy',
  minutes: 2,
  threshold: null,
  device: null,
  label: null,
  ...fields,
});

/** Minute by minute: the samples up to `minute`, judged at `minute`. */
function firingOverTime(
  condition: RuleCondition,
  all: PlatformMetricSample[],
  devices: DeviceActivity[] = [],
) {
  return all.map(
    (s, index) => evaluateRule(condition, all.slice(0, index + 1), devices, s.sampledAt).firing,
  );
}

describe('alert evaluation (a clock the test controls)', () => {
  it('fires "platform unhealthy" once unhealthy for the rule\'s minutes, and not on a blip', () => {
    const statuses = [
      'healthy',
      'degraded',
      'healthy',
      'unreachable',
      'unreachable',
      'degraded',
      'healthy',
    ] as const;
    const samples = statuses.map((status, minute) => sample(minute, { status }));
    expect(firingOverTime(rule({ minutes: 2 }), samples)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      false,
    ]);
    expect(firingOverTime(rule({ minutes: 0 }), samples)).toEqual([
      false,
      true,
      false,
      true,
      true,
      true,
      false,
    ]);
    // The worker stopped sampling: nothing to judge by, the state stays.
    expect(evaluateRule(rule({}), samples, [], at(20)).firing).toBeNull();
  });

  it('fires "queue depth" above N held for M minutes, with the figures in the detail', () => {
    const depths = [10, 5000, 20000, 30000, 25000, 100];
    const samples = depths.map((queueDepth, minute) => sample(minute, { queueDepth }));
    const condition = rule({ kind: 'queue-depth', threshold: 10_000, minutes: 2 });
    expect(firingOverTime(condition, samples)).toEqual([false, false, false, false, true, false]);
    expect(evaluateRule(condition, samples.slice(0, 5), [], at(4)).detail).toBe(
      '25000 messages waiting (limit 10000)',
    );
    expect(evaluateRule(condition, [sample(0)], [], at(0)).firing).toBeNull();
  });

  it('fires "disk use" when the data volume stays at or above the percentage, not on one reading', () => {
    const percents = [70, 86, 80, 85, 88, 91, 60];
    const samples = percents.map((diskUsedPercent, minute) => sample(minute, { diskUsedPercent }));
    const condition = rule({ kind: 'disk-use', threshold: 85, minutes: 2 });
    expect(firingOverTime(condition, samples)).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
      false,
    ]);
    expect(evaluateRule(condition, samples.slice(0, 6), [], at(5)).detail).toBe(
      'Data volume 91 % full (limit 85 %)',
    );
    // Signed out, the host is not read: no figure, no change.
    expect(evaluateRule(condition, [sample(0)], [], at(0)).firing).toBeNull();
  });

  it('measures the dead-letter rate per minute over the window, within one processor run', () => {
    const failed = [0, 0, 30, 90, 90, 90, 90, 90];
    const samples = failed.map((messagesFailed, minute) => sample(minute, { messagesFailed }));
    const condition = rule({ kind: 'dead-letter-rate', threshold: 10, minutes: 3 });
    expect(firingOverTime(condition, samples)).toEqual([
      null,
      false,
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(evaluateRule(condition, samples.slice(0, 4), [], at(3)).detail).toBe(
      '30 dead-lettered messages/min over 3 min (limit 10)',
    );
    // A restarted processor counts from zero: the old run's counts are not compared with it.
    const restarted = [
      ...samples.slice(0, 3),
      sample(3, { messagesFailed: 2, processorStartedAt: at(3) }),
    ];
    expect(evaluateRule(condition, restarted, [], at(3)).firing).toBeNull();
  });

  it('finds silent devices by name, by label or all, and never judges devices without reading times', () => {
    const devices: DeviceActivity[] = [
      { name: 'pi-1', labels: { site: 'north' }, createdAt: at(-100), lastReadingAt: at(-1) },
      { name: 'pi-2', labels: { site: 'north' }, createdAt: at(-100), lastReadingAt: at(-30) },
      { name: 'pi-3', labels: { site: 'south' }, createdAt: at(-100), lastReadingAt: null },
      { name: 'pi-4', labels: {}, createdAt: at(-5), lastReadingAt: null },
    ];
    const judge = (fields: Partial<RuleCondition>) =>
      evaluateRule(rule({ kind: 'device-silent', minutes: 10, ...fields }), [], devices, at(0));
    expect(judge({ device: 'pi-1' })).toEqual({ firing: false, detail: '1 devices reporting' });
    expect(judge({ device: 'pi-2' }).firing).toBe(true);
    expect(judge({ label: 'site:north' })).toEqual({
      firing: true,
      detail: 'Silent for 10 min or more: pi-2',
    });
    // pi-4 was created 5 minutes ago and has not had 10 minutes to report yet.
    expect(judge({}).detail).toBe('Silent for 10 min or more: pi-2, pi-3');
    const unknown = devices.map(({ lastReadingAt: _, ...device }) => device);
    expect(
      evaluateRule(rule({ kind: 'device-silent', minutes: 10 }), [], unknown, at(0)).firing,
    ).toBeNull();
  });

  it("after a processor restart, judges a device it has no figure for only once the restart is the rule's minutes old", () => {
    // The processor restarted 4 minutes ago (at -4) and forgot: pi-1 sent since, pi-2 did not.
    const afterRestart = (minute: number): DeviceActivity[] => [
      { name: 'pi-1', labels: {}, createdAt: at(-100), lastReadingAt: at(minute - 1) },
      { name: 'pi-2', labels: {}, createdAt: at(-100), lastReadingAt: null, nothingSince: at(-4) },
    ];
    const judge = (fields: Partial<RuleCondition>, minute: number) =>
      evaluateRule(
        rule({ kind: 'device-silent', minutes: 10, ...fields }),
        [],
        afterRestart(minute),
        at(minute),
      );
    // pi-2 may have sent before the restart: neither silent nor reporting, the rule keeps state.
    expect(judge({ device: 'pi-2' }, 0).firing).toBeNull();
    expect(judge({}, 0).firing).toBeNull();
    expect(judge({ device: 'pi-1' }, 0).firing).toBe(false);
    // Ten minutes after the restart it has sent nothing for ten minutes: silent for certain.
    expect(judge({}, 6)).toEqual({ firing: true, detail: 'Silent for 10 min or more: pi-2' });
    expect(judge({ device: 'pi-2' }, 5).firing).toBeNull();
  });

  it('judges one-minute checks that end a little early or late as a minute apart', () => {
    // A check's time is when it ended: 59.5 s after the previous one as often as 60.5 s.
    const seconds = (s: number) => new Date(T0 + s * 1000);
    const samples = [0, 60.4, 119.9, 180.3].map((s, index) => ({
      ...sample(0, { status: index === 0 ? 'healthy' : 'unreachable' }),
      sampledAt: seconds(s),
    }));
    const judged = samples.map(
      (s, index) =>
        evaluateRule(rule({ minutes: 1 }), samples.slice(0, index + 1), [], s.sampledAt).firing,
    );
    // Unreachable at 60.4 s and again at 119.9 s (59.5 s later): held for the rule's minute.
    expect(judged).toEqual([false, false, true, true]);
  });

  it('fires "backup failed" while the latest finished backup failed, until one succeeds', () => {
    const condition = rule({ kind: 'backup-failed', minutes: 0 });
    const judge = (...statuses: ('succeeded' | 'failed')[]) =>
      evaluateRule(condition, [], [], at(0), {
        backups: statuses.map((status, index) => ({ status, startedAt: at(-60 * (index + 1)) })),
        certificates: [],
      });
    expect(judge()).toEqual({ firing: false, detail: 'No backup run yet' });
    expect(judge('succeeded', 'failed')).toEqual({
      firing: false,
      detail: `Last backup succeeded (${at(-60).toISOString()})`,
    });
    expect(judge('failed', 'succeeded')).toEqual({
      firing: true,
      detail: `Last backup failed (latest started ${at(-60).toISOString()})`,
    });
    expect(judge('failed', 'failed', 'failed', 'succeeded').detail).toBe(
      `Last 3 backups failed (latest started ${at(-60).toISOString()})`,
    );
  });

  it('fires "certificate expiring" while any certificate expires within the days given', () => {
    const day = 24 * 60;
    const judge = (days: number, ...expiries: [string, number][]) =>
      evaluateRule(
        rule({ kind: 'certificate-expiring', minutes: 0, threshold: days }),
        [],
        [],
        at(0),
        {
          backups: [],
          certificates: expiries.map(([name, inDays]) => ({ name, expiresAt: at(inDays * day) })),
        },
      );
    expect(judge(30)).toEqual({ firing: false, detail: 'No certificates' });
    expect(judge(30, ['pi-1', 200], ['platform CA', 3000])).toEqual({
      firing: false,
      detail: '2 certificates valid beyond 30 days',
    });
    expect(judge(30, ['pi-1', 200], ['pi-2', 12.5], ['broker TLS certificate', -1])).toEqual({
      firing: true,
      detail: 'Expiring within 30 days: broker TLS certificate (expired), pi-2 (in 12 days)',
    });
    expect(judge(30, ['pi-1', 30]).firing).toBe(true);
    expect(judge(7, ['pi-1', 8]).firing).toBe(false);
  });
});

describe('alert state: fire, re-notify, resolve, mute', () => {
  const ok: RuleState = {
    state: 'ok',
    firingSince: null,
    lastNotifiedAt: null,
    reNotifyMinutes: 30,
    mutedUntil: null,
  };

  /** Runs `nextState` minute by minute and lists the events. */
  function run(start: RuleState, firing: (boolean | null)[]) {
    let state = start;
    return firing.flatMap((value, minute) => {
      const step = nextState(state, value, at(minute));
      state = step.state;
      return step.event
        ? [`${minute} ${step.event.kind}${step.event.notify ? '' : ' (silent)'}`]
        : [];
    });
  }

  it('notifies once on firing, again after the re-notify interval, and once on resolving', () => {
    const firing = [false, true, ...Array<boolean>(60).fill(true), null, false, false];
    expect(run(ok, firing)).toEqual(['1 fired', '31 renotified', '61 renotified', '63 resolved']);
  });

  it('records but does not notify while muted, and notifies a firing still on when the mute ends', () => {
    const muted = { ...ok, mutedUntil: at(10) };
    expect(run(muted, [true, true, false, true, ...Array<boolean>(10).fill(true), false])).toEqual([
      '0 fired (silent)',
      '2 resolved (silent)',
      '3 fired (silent)',
      '10 renotified',
      '14 resolved',
    ]);
  });
});
