import { describe, expect, it } from 'vitest';
import { ApiFailure } from '../../api/errors';
import { useFormSubmission } from '../../composables/use-form-submission';
import {
  createBody,
  describeRule,
  grafanaApplyNotice,
  isApplyingToGrafana,
  isMuted,
  muteUntil,
  readingFormProblems,
  updateBody,
  type AlertRule,
  type RuleForm,
} from './alert-rules';

const form = (fields: Partial<RuleForm>): RuleForm => ({
  kind: 'platform-unhealthy',
  minutes: 5,
  threshold: null,
  device: '',
  label: '',
  reNotifyMinutes: null,
  measurement: '',
  field: '',
  operator: '>',
  ...fields,
});

describe('reading thresholds (evaluated by Grafana)', () => {
  const reading = form({
    kind: 'reading-threshold',
    measurement: ' room ',
    field: 'temperature',
    operator: '>=',
    threshold: -2.5,
    device: 'pi-1',
    label: 'site:north',
    reNotifyMinutes: 30,
  });

  it('sends measurement, field, operator, value and device, and no re-notify interval or label', () => {
    expect(createBody(reading)).toEqual({
      kind: 'reading-threshold',
      minutes: 5,
      measurement: 'room',
      field: 'temperature',
      operator: '>=',
      threshold: -2.5,
      device: 'pi-1',
    });
    expect(createBody({ ...reading, device: ' ' })).not.toHaveProperty('device');
    expect(updateBody(reading)).toEqual({ minutes: 5, threshold: -2.5 });
  });

  it('says it in words', () => {
    expect(
      describeRule({
        kind: 'reading-threshold',
        minutes: 5,
        threshold: 30,
        device: null,
        label: null,
        measurement: 'room',
        field: 'temperature',
        operator: '>',
      }),
    ).toBe('room.temperature > 30 on any device, for 5 minutes');
    expect(
      describeRule({
        kind: 'reading-threshold',
        minutes: 0,
        threshold: 12.5,
        device: 'pi-1',
        label: null,
        measurement: 'soil',
        field: 'probe.moisture',
        operator: '<=',
      }),
    ).toBe('soil.probe.moisture <= 12.5 on device pi-1, at once');
  });

  it('shows names Grafana cannot query before sending', () => {
    expect(readingFormProblems(reading)).toEqual({});
    expect(readingFormProblems({ ...reading, measurement: '', field: "t') OR 1" })).toEqual({
      measurement: 'Enter the measurement.',
      field: 'Letters, digits and "_" only (an inner "." or "-" too), at most 64.',
    });
    expect(readingFormProblems({ ...reading, field: '{{ $values }}' }).field).toBeDefined();
    expect(readingFormProblems(form({ kind: 'queue-depth' }))).toEqual({});
  });
});

describe('describeRule', () => {
  const rule = { minutes: 5, threshold: null, device: null, label: null };

  it('says each kind in words, the defaults included', () => {
    expect(describeRule({ ...rule, kind: 'platform-unhealthy', minutes: 1 })).toBe(
      'Not healthy for 1 minute',
    );
    expect(describeRule({ ...rule, kind: 'dead-letter-rate', threshold: 0 })).toBe(
      'Any dead letter within 5 minutes',
    );
    expect(describeRule({ ...rule, kind: 'dead-letter-rate', threshold: 2.5 })).toBe(
      'More than 2.5 dead letters a minute over 5 minutes',
    );
    expect(describeRule({ ...rule, kind: 'disk-use', threshold: 85, minutes: 5 })).toBe(
      'Data volume 85 % full or more for 5 minutes',
    );
    expect(describeRule({ ...rule, kind: 'queue-depth', threshold: 10_000 })).toBe(
      'More than 10,000 queued for 5 minutes',
    );
    expect(describeRule({ ...rule, kind: 'backup-failed', minutes: 0 })).toBe(
      'The latest backup failed',
    );
    expect(describeRule({ ...rule, kind: 'certificate-expiring', minutes: 0, threshold: 30 })).toBe(
      'A certificate expires within 30 days',
    );
  });

  it('names the device or label a silence rule watches', () => {
    expect(describeRule({ ...rule, kind: 'device-silent', device: 'pi-1' })).toBe(
      'Device pi-1 without a reading for 5 minutes',
    );
    expect(describeRule({ ...rule, kind: 'device-silent', label: 'site:north' })).toBe(
      'A device labelled site:north without a reading for 5 minutes',
    );
    expect(describeRule({ ...rule, kind: 'device-silent' })).toBe(
      'Any device without a reading for 5 minutes',
    );
  });
});

describe('rule bodies', () => {
  it('sends only the fields the kind uses', () => {
    expect(
      createBody(form({ kind: 'platform-unhealthy', threshold: 3, device: 'pi-1', label: 'a:b' })),
    ).toEqual({ kind: 'platform-unhealthy', minutes: 5 });
    expect(createBody(form({ kind: 'queue-depth', threshold: 500, reNotifyMinutes: 30 }))).toEqual({
      kind: 'queue-depth',
      minutes: 5,
      threshold: 500,
      reNotifyMinutes: 30,
    });
    expect(createBody(form({ kind: 'device-silent', device: ' pi-1 ', label: '' }))).toEqual({
      kind: 'device-silent',
      minutes: 5,
      device: 'pi-1',
    });
    expect(createBody(form({ kind: 'backup-failed', threshold: 3 }))).toEqual({
      kind: 'backup-failed',
    });
    expect(createBody(form({ kind: 'certificate-expiring', threshold: 14 }))).toEqual({
      kind: 'certificate-expiring',
      threshold: 14,
    });
  });

  it('leaves an empty minutes field for the API to name (null in JSON)', () => {
    expect(JSON.parse(JSON.stringify(createBody(form({ minutes: null }))))).toEqual({
      kind: 'platform-unhealthy',
      minutes: null,
    });
  });

  it('updates only what is filled in', () => {
    expect(updateBody(form({ kind: 'queue-depth', minutes: null, threshold: 20 }))).toEqual({
      threshold: 20,
    });
  });
});

describe('mute', () => {
  const now = Date.parse('2026-12-02T08:00:00Z');

  it('mutes until a time in the future only', () => {
    expect(isMuted({ mutedUntil: null }, now)).toBe(false);
    expect(isMuted({ mutedUntil: '2026-12-02T07:59:00Z' }, now)).toBe(false);
    expect(isMuted({ mutedUntil: '2026-12-02T09:00:00Z' }, now)).toBe(true);
  });

  it('computes the end of a mute from now', () => {
    expect(muteUntil(now, 8)).toBe('2026-12-02T16:00:00.000Z');
  });
});

describe('the last apply of the reading thresholds to Grafana', () => {
  const deploymentId = '6f1c2d3e-4a5b-4c6d-8e7f-001122334455';
  const reading = (grafanaApply: AlertRule['grafanaApply']) =>
    ({ kind: 'reading-threshold', grafanaApply }) as const;
  const queueDepth = { kind: 'queue-depth', grafanaApply: undefined } as const;

  it('says a change is applying, with the deployment whose log it opens', () => {
    for (const status of ['queued', 'running'] as const) {
      const rules = [queueDepth, reading({ deploymentId, status, error: null })];
      expect(grafanaApplyNotice(rules)).toEqual({
        deploymentId,
        severity: 'info',
        text: 'Applying the reading thresholds to Grafana…',
      });
      expect(isApplyingToGrafana(rules)).toBe(true);
    }
  });

  it("says a failed apply with the deployment's error, and nothing once applied or without one", () => {
    const failed = grafanaApplyNotice([
      reading({ deploymentId, status: 'failed', error: 'Grafana answered 401 to the reload' }),
    ]);
    expect(failed).toMatchObject({ deploymentId, severity: 'error' });
    expect(failed!.text).toContain('did not reach Grafana (failed: Grafana answered 401');
    expect(isApplyingToGrafana([reading({ deploymentId, status: 'failed', error: null })])).toBe(
      false,
    );
    expect(
      grafanaApplyNotice([reading({ deploymentId, status: 'cancelled', error: null })])!.text,
    ).toContain('(cancelled)');
    expect(
      grafanaApplyNotice([reading({ deploymentId, status: 'succeeded', error: null })]),
    ).toBeNull();
    expect(grafanaApplyNotice([reading(null), queueDepth])).toBeNull();
    expect(grafanaApplyNotice([])).toBeNull();
  });
});

describe("the rule dialog's errors", () => {
  it('shows the message of the 409s without a field (DUPLICATE_RULE, PLATFORM_BUSY)', async () => {
    const { error, fieldErrors, submit } = useFormSubmission({
      UNKNOWN_DEVICE: 'device',
      UNKNOWN_LABEL: 'label',
      READING_ALERTS_UNSUPPORTED: 'kind',
    });
    for (const [code, message] of [
      ['DUPLICATE_RULE', 'Rule 1 already has this measurement, field, operator, threshold'],
      [
        'PLATFORM_BUSY',
        'The platform is configuring: change its reading thresholds once it is running',
      ],
    ]) {
      await submit(async () => {
        throw new ApiFailure(code!, message!);
      }, 'Could not add the rule');
      expect(error.value).toBe(message);
      expect(fieldErrors.value).toEqual({});
    }
  });
});
