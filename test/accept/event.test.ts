import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAcceptEvent } from '../../lib/accept/event.js';
import { InvalidPayloadError } from '../../lib/errors.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../events/${name}`, import.meta.url), 'utf8'));

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

  it('keeps the event type of a notification for another event, for the log', () => {
    const event = snsEvent({ eventType: 'Delete', endpointId: 'vpce-1' });

    expect(parseAcceptEvent(event).notification?.eventType).toBe('Delete');
  });

  it.each([
    ['a scheduled event with dryRun', { ...(fixture('scheduled.json') as object), dryRun: true }, 'dryRun'],
    ['an SNS notification with dryRun', { ...(fixture('sns-connection-notification.json') as object), dryRun: true }, 'dryRun'],
    ['an SNS notification with force', { ...(fixture('sns-connection-notification.json') as object), force: true }, 'force'],
  ])('refuses %s instead of running for real', (_, event, field) => {
    expect(() => parseAcceptEvent(event)).toThrow(InvalidPayloadError);
    expect(() => parseAcceptEvent(event)).toThrow(`Invalid accept payload (${field}: a manual payload's field; on an AWS event it would be ignored and the run go ahead for real)`);
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
  ])('rejects %s with InvalidPayloadError', (_what, payload) => {
    expect(() => parseAcceptEvent(payload)).toThrow(InvalidPayloadError);
  });

  it.each([
    ['not JSON', 'hello', 'SNS message is not JSON: hello'],
    ['a JSON list', '[1]', 'SNS message is not an object with eventType/endpointId/serviceId strings: [1]'],
    ['a number as eventType', '{"eventType":7}', 'SNS message is not an object with eventType/endpointId/serviceId strings: {"eventType":7}'],
  ])('still starts a notification run when the SNS message is %s, noting why it was unreadable', (_what, message, unreadable) => {
    expect(parseAcceptEvent(snsEvent(message))).toEqual({ trigger: 'notification', dryRun: false, notification: { unreadable } });
  });

  it('starts a notification run for a message without eventType, keeping what it names', () => {
    expect(parseAcceptEvent(snsEvent({ endpointId: 'vpce-1' }))).toEqual({ trigger: 'notification', dryRun: false, notification: { endpointId: 'vpce-1' } });
  });

  it('says what it expected in the error', () => {
    expect(() => parseAcceptEvent(42)).toThrow(/Scheduled Event.*SNS.*dryRun/);
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
