import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideConnections, parseAcceptEvent } from '../lib/accept.js';
import { ConfigError, FIVETRAN_ACCOUNT_ID, loadAcceptConfig } from '../lib/config.js';
import { InvalidPayloadError } from '../lib/errors.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./events/${name}`, import.meta.url), 'utf8'));

const FIVETRAN = FIVETRAN_ACCOUNT_ID;
const STRANGER = '111122223333';

describe('decideConnections', () => {
  it('accepts a connection whose owner is on the allowlist', () => {
    const d = decideConnections([{ endpointId: 'vpce-1', owner: FIVETRAN }], [FIVETRAN], { rejectUnlisted: false });

    expect(d).toEqual({ accept: [{ endpointId: 'vpce-1', owner: FIVETRAN, reason: 'owner allowlisted' }], reject: [], leave: [] });
  });

  it('leaves an unlisted owner pending, with the reason, by default', () => {
    const d = decideConnections([{ endpointId: 'vpce-2', owner: STRANGER }], [FIVETRAN], { rejectUnlisted: false });

    expect(d).toEqual({ accept: [], reject: [], leave: [{ endpointId: 'vpce-2', owner: STRANGER, reason: 'owner not allowlisted' }] });
  });

  it('rejects an unlisted owner when rejectUnlisted is set', () => {
    const d = decideConnections([{ endpointId: 'vpce-2', owner: STRANGER }], [FIVETRAN], { rejectUnlisted: true });

    expect(d.reject).toEqual([{ endpointId: 'vpce-2', owner: STRANGER, reason: 'owner not allowlisted (REJECT_UNLISTED)' }]);
    expect(d.accept).toEqual([]);
    expect(d.leave).toEqual([]);
  });

  it('splits a mixed batch by owner', () => {
    const d = decideConnections(
      [
        { endpointId: 'vpce-a', owner: FIVETRAN },
        { endpointId: 'vpce-b', owner: STRANGER },
        { endpointId: 'vpce-c', owner: '444455556666' },
        { endpointId: 'vpce-d', owner: FIVETRAN },
      ],
      [FIVETRAN, '444455556666'],
      { rejectUnlisted: true },
    );

    expect(d.accept.map((x) => x.endpointId)).toEqual(['vpce-a', 'vpce-c', 'vpce-d']);
    expect(d.reject.map((x) => x.endpointId)).toEqual(['vpce-b']);
    expect(d.leave).toEqual([]);
  });

  it('never accepts or rejects a connection whose owner EC2 did not name', () => {
    for (const rejectUnlisted of [false, true]) {
      const d = decideConnections([{ endpointId: 'vpce-x' }], [FIVETRAN], { rejectUnlisted });

      expect(d).toEqual({ accept: [], reject: [], leave: [{ endpointId: 'vpce-x', owner: null, reason: 'owner unknown' }] });
    }
  });

  it('never accepts anyone with an empty allowlist', () => {
    const d = decideConnections([{ endpointId: 'vpce-1', owner: FIVETRAN }], [], { rejectUnlisted: false });

    expect(d.accept).toEqual([]);
    expect(d.leave).toHaveLength(1);
  });

  it('does not match an owner by prefix or with stray characters', () => {
    const d = decideConnections(
      [
        { endpointId: 'vpce-1', owner: `${FIVETRAN}0` },
        { endpointId: 'vpce-2', owner: ` ${FIVETRAN}` },
        { endpointId: 'vpce-3', owner: `arn:aws:iam::${FIVETRAN}:root` },
      ],
      [FIVETRAN],
      { rejectUnlisted: false },
    );

    expect(d.accept).toEqual([]);
    expect(d.leave).toHaveLength(3);
  });

  it('decides each endpoint once when a listing repeats it', () => {
    const d = decideConnections(
      [
        { endpointId: 'vpce-1', owner: FIVETRAN },
        { endpointId: 'vpce-1', owner: FIVETRAN },
      ],
      [FIVETRAN],
      { rejectUnlisted: false },
    );

    expect(d.accept).toHaveLength(1);
  });
});

describe('parseAcceptEvent', () => {
  it('reads an EventBridge scheduled event as a scheduled run', () => {
    expect(parseAcceptEvent(fixture('scheduled.json'))).toEqual({ trigger: 'schedule', dryRun: false });
  });

  it('reads an SNS connection notification as a notification run, keeping what it names', () => {
    expect(parseAcceptEvent(fixture('sns-connection-notification.json'))).toEqual({
      trigger: 'notification',
      dryRun: false,
      notification: { eventType: 'Connect', endpointId: 'vpce-0f1e2d3c4b5a69788', serviceId: 'vpce-svc-0123456789abcdef0' },
    });
  });

  it('keeps the event type of a notification for another event, so the run can skip it', () => {
    const event = snsEvent({ eventType: 'Delete', endpointId: 'vpce-1' });

    expect(parseAcceptEvent(event).notification?.eventType).toBe('Delete');
  });

  it.each([undefined, null, {}])('treats %j as a manual run', (payload) => {
    expect(parseAcceptEvent(payload)).toEqual({ trigger: 'manual', dryRun: false });
  });

  it('reads {"dryRun": true} as a manual dry run', () => {
    expect(parseAcceptEvent({ dryRun: true })).toEqual({ trigger: 'manual', dryRun: true });
  });

  it('rejects a misspelt manual option instead of running for real', () => {
    expect(() => parseAcceptEvent({ dryrun: true })).toThrow(InvalidPayloadError);
    expect(() => parseAcceptEvent({ dryrun: true })).toThrow(/dryrun/);
  });

  it('rejects a dryRun that is not a boolean', () => {
    expect(() => parseAcceptEvent({ dryRun: 'true' })).toThrow(/dryRun: .*boolean/);
  });

  it.each([
    ['a string', 'run'],
    ['a number', 1],
    ['an array', [{ dryRun: true }]],
    ['another EventBridge event', { source: 'aws.rds', 'detail-type': 'RDS DB Instance Event', detail: {} }],
    ['an SQS event', { Records: [{ eventSource: 'aws:sqs', body: '{}' }] }],
    ['an SNS message that is not JSON', snsEvent('hello')],
    ['an SNS message without eventType', snsEvent({ endpointId: 'vpce-1' })],
  ])('rejects %s with InvalidPayloadError', (_what, payload) => {
    expect(() => parseAcceptEvent(payload)).toThrow(InvalidPayloadError);
  });

  it('says what it expected in the error', () => {
    expect(() => parseAcceptEvent(42)).toThrow(/Scheduled Event.*SNS.*dryRun/);
  });
});

describe('ALLOWED_PRINCIPALS (loadAcceptConfig)', () => {
  const env = { ENDPOINT_SERVICE_IDS: 'vpce-svc-0123456789abcdef0' };

  it("defaults to Fivetran's account", () => {
    expect(loadAcceptConfig(env).allowedAccounts).toEqual([FIVETRAN]);
  });

  it('takes root ARNs and bare account IDs, as account IDs', () => {
    const config = loadAcceptConfig({ ...env, ALLOWED_PRINCIPALS: `arn:aws:iam::${FIVETRAN}:root, 444455556666` });

    expect(config.allowedAccounts).toEqual([FIVETRAN, '444455556666']);
  });

  it.each(['83446917829', 'arn:aws:iam::834469178297:user/fivetran', 'fivetran', '*'])('refuses the malformed entry %s at cold start', (entry) => {
    expect(() => loadAcceptConfig({ ...env, ALLOWED_PRINCIPALS: entry })).toThrow(ConfigError);
    expect(() => loadAcceptConfig({ ...env, ALLOWED_PRINCIPALS: entry })).toThrow(/ALLOWED_PRINCIPALS/);
  });

  it('leaves unlisted connections pending unless REJECT_UNLISTED is true', () => {
    expect(loadAcceptConfig(env).rejectUnlisted).toBe(false);
    expect(loadAcceptConfig({ ...env, REJECT_UNLISTED: 'true' }).rejectUnlisted).toBe(true);
  });
});

function snsEvent(message: unknown) {
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        Sns: { Type: 'Notification', TopicArn: 'arn:aws:sns:eu-west-1:123456789012:t', Message: typeof message === 'string' ? message : JSON.stringify(message) },
      },
    ],
  };
}
