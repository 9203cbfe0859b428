import { describe, expect, it } from 'vitest';
import { InvalidPayloadError } from '../../lib/errors.js';
import { parseSyncEvent } from '../../lib/sync/event.js';
import rdsEvent from '../events/rds-cluster-failover.json' with { type: 'json' };
import scheduleEvent from '../events/scheduled.json' with { type: 'json' };
import { BILLING, ORDERS, syncConfig } from '../fixtures.js';

const config = syncConfig();
const withSource = (SourceIdentifier: string) => ({ ...rdsEvent, detail: { ...rdsEvent.detail, SourceIdentifier } });

describe('parseSyncEvent', () => {
  it('reads a scheduled event as a plain run', () => {
    expect(parseSyncEvent(scheduleEvent, config)).toEqual({ trigger: 'schedule', force: false, dryRun: false });
  });

  it('watches the mapping whose endpoint is named by the RDS event', () => {
    expect(parseSyncEvent(rdsEvent, config)).toEqual({
      trigger: 'rds-event',
      force: false,
      dryRun: false,
      watch: [ORDERS],
      event: { sourceIdentifier: 'orders', eventId: 'RDS-EVENT-0073', message: 'Started cross AZ failover to DB instance: orders-instance-2' },
    });
  });

  it('understands the "rds:<id>" form of the source identifier', () => {
    expect(parseSyncEvent(withSource('rds:Billing'), config).watch).toEqual([BILLING]);
  });

  it('watches every mapping when the event names none of them', () => {
    expect(parseSyncEvent(withSource('orders-instance-2'), config).watch).toEqual([ORDERS, BILLING]);
  });

  it.each([undefined, null, {}])('treats %j as a manual run of everything', (payload) => {
    expect(parseSyncEvent(payload, config)).toEqual({ trigger: 'manual', force: false, dryRun: false });
  });

  it('rejects an empty endpoints list', () => {
    expect(() => parseSyncEvent({ endpoints: [] }, config)).toThrow(InvalidPayloadError);
  });
});
