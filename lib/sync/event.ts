// What started a sync run: an EventBridge schedule tick, an RDS event, or a manual invoke.
// Anything else is refused before any AWS call (a typo must not become a partial run).
import * as z from 'zod/mini';
import type { SyncConfig } from '../config.js';
import { parsePayload } from '../payload.js';
import { InvalidPayloadError } from '../errors.js';
import type { SyncRequest } from './run.js';

const scheduled = z.object({ source: z.literal('aws.events'), 'detail-type': z.literal('Scheduled Event') });

const rdsEvent = z.object({
  source: z.literal('aws.rds'),
  'detail-type': z.string(),
  detail: z.object({
    SourceIdentifier: z.string().check(z.minLength(1)),
    EventID: z.optional(z.string()),
    Message: z.optional(z.string()),
  }),
});

const manual = z.strictObject({
  force: z.optional(z.boolean()),
  dryRun: z.optional(z.boolean()),
  endpoints: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
});

const MANUAL_HELP = 'expected an EventBridge schedule or aws.rds event, or a manual payload {"force"?: boolean, "dryRun"?: boolean, "endpoints"?: string[]}';

export function parseSyncEvent(event: unknown, config: SyncConfig): SyncRequest {
  if (event === undefined || event === null || event === '') return { trigger: 'manual', force: false, dryRun: false };
  if (scheduled.safeParse(event).success) return { trigger: 'schedule', force: false, dryRun: false };

  const rds = rdsEvent.safeParse(event);
  if (rds.success) {
    const { SourceIdentifier, EventID, Message } = rds.data.detail;
    // An RDS endpoint's first DNS label is the instance or cluster identifier. (AWS's own
    // example events write it as "rds:<id>".)
    const id = SourceIdentifier.toLowerCase().replace(/^rds:/, '');
    const matching = config.mappings.filter((m) => m.endpoint.split('.')[0] === id).map((m) => m.endpoint);
    return {
      trigger: 'rds-event',
      force: false,
      dryRun: false,
      watch: matching.length > 0 ? matching : config.mappings.map((m) => m.endpoint),
      event: { sourceIdentifier: SourceIdentifier, ...(EventID ? { eventId: EventID } : {}), ...(Message ? { message: Message } : {}) },
    };
  }

  const { force = false, dryRun = false, endpoints } = parsePayload(manual, event, 'sync payload', MANUAL_HELP);
  if (endpoints) {
    const known = new Set(config.mappings.map((m) => m.endpoint));
    const unknown = endpoints.filter((e) => !known.has(e.toLowerCase()));
    if (unknown.length > 0) {
      throw new InvalidPayloadError(`Invalid sync payload: endpoints ${unknown.join(', ')} not configured; configured: ${[...known].join(', ')}`);
    }
    return { trigger: 'manual', force, dryRun, endpoints: endpoints.map((e) => e.toLowerCase()) };
  }
  return { trigger: 'manual', force, dryRun };
}
