// What started an accept run: a schedule tick, the endpoint service's SNS connection
// notification, or a manual invoke. Anything else is refused before any AWS call.
import * as z from 'zod/mini';
import { InvalidPayloadError } from '../errors.js';
import { parsePayload, refuseManualFields } from '../payload.js';


export type AcceptTrigger = 'schedule' | 'notification' | 'manual';

/** What the SNS message said, read best effort for the log: it never decides what the run does. */
export interface ConnectionNotice {
  eventType?: string;
  endpointId?: string;
  serviceId?: string;
  /** Why the message could not be read (not JSON, unexpected shape); the run goes ahead anyway. */
  unreadable?: string;
}

export interface AcceptRequest {
  trigger: AcceptTrigger;
  dryRun: boolean;
  /** The SNS connection notification that started the run. */
  notification?: ConnectionNotice;
  /** The Lambda deadline (epoch ms): the run gives up on EC2 calls in time to log and send its metrics. */
  deadline?: number;
}

// AWS envelopes are matched on their identifying fields and may carry more (AWS adds fields);
// the manual payload is strict so that a typo ({"dryrun": true}) fails instead of running for real.
const scheduledEvent = z.looseObject({ source: z.literal('aws.events'), 'detail-type': z.literal('Scheduled Event') });
const snsEvent = z.looseObject({
  Records: z.array(z.looseObject({ EventSource: z.literal('aws:sns'), Sns: z.looseObject({ Message: z.string() }) })).check(z.minLength(1)),
});
const connectionNotice = z.looseObject({
  eventType: z.optional(z.string()),
  endpointId: z.optional(z.string()),
  serviceId: z.optional(z.string()),
});
const manualPayload = z.strictObject({ dryRun: z.optional(z.boolean()) });

const EXPECTED =
  'expected an EventBridge "Scheduled Event", an SNS VPC endpoint connection notification, or a manual payload {"dryRun"?: boolean} (or none)';

/** Event -> request, before any AWS call; anything else is an InvalidPayloadError. */
export function parseAcceptEvent(event: unknown): AcceptRequest {
  if (event === undefined || event === null) return { trigger: 'manual', dryRun: false };
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidPayloadError(`Invalid accept payload (${Array.isArray(event) ? 'array' : typeof event}): ${EXPECTED}`);
  }
  if ('Records' in event || 'source' in event || 'detail-type' in event) refuseManualFields(event, ['dryRun', 'force'], 'accept payload', EXPECTED);
  if ('Records' in event) {
    const records = parse(snsEvent, event, 'SNS event').Records;
    // The message shape is not documented with an example by AWS: any record from the topic starts
    // a full pass (one listing per service finds whatever is pending); the message only feeds the log.
    const notices = records.map((r) => readNotice(r.Sns.Message));
    const notice = notices.find((n) => n.eventType === 'Connect') ?? notices[0];
    return { trigger: 'notification', dryRun: false, ...(notice ? { notification: notice } : {}) };
  }
  if ('source' in event || 'detail-type' in event) {
    parse(scheduledEvent, event, 'scheduled event');
    return { trigger: 'schedule', dryRun: false };
  }
  const manual = parse(manualPayload, event, 'manual payload');
  return { trigger: 'manual', dryRun: manual.dryRun ?? false };
}

/** Best effort: what the message says, or why it could not be read. Never throws. */
export function readNotice(message: string): ConnectionNotice {
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    return { unreadable: `SNS message is not JSON: ${message.slice(0, 200)}` };
  }
  const result = connectionNotice.safeParse(body);
  if (!result.success || typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { unreadable: `SNS message is not an object with eventType/endpointId/serviceId strings: ${message.slice(0, 200)}` };
  }
  const { eventType, endpointId, serviceId } = result.data;
  return { ...(eventType ? { eventType } : {}), ...(endpointId ? { endpointId } : {}), ...(serviceId ? { serviceId } : {}) };
}

const parse = <T extends z.ZodMiniType>(schema: T, value: unknown, what: string) => parsePayload(schema, value, `accept payload (${what})`, EXPECTED);
