// What started an accept run: a schedule tick, the endpoint service's SNS connection
// notification, or a manual invoke. Anything else is refused before any AWS call.
import * as z from 'zod/mini';
import { InvalidPayloadError } from '../errors.js';
import { parsePayload } from '../payload.js';


export type AcceptTrigger = 'schedule' | 'notification' | 'manual';

export interface ConnectionNotice {
  eventType: string;
  endpointId?: string;
  serviceId?: string;
}

export interface AcceptRequest {
  trigger: AcceptTrigger;
  dryRun: boolean;
  /** The SNS connection notification that started the run. */
  notification?: ConnectionNotice;
}

// AWS envelopes are matched on their identifying fields and may carry more (AWS adds fields);
// the manual payload is strict so that a typo ({"dryrun": true}) fails instead of running for real.
const scheduledEvent = z.looseObject({ source: z.literal('aws.events'), 'detail-type': z.literal('Scheduled Event') });
const snsEvent = z.looseObject({
  Records: z.array(z.looseObject({ EventSource: z.literal('aws:sns'), Sns: z.looseObject({ Message: z.string() }) })).check(z.minLength(1)),
});
const connectionNotice = z.looseObject({
  eventType: z.string().check(z.minLength(1)),
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
  if ('Records' in event) {
    const records = parse(snsEvent, event, 'SNS event').Records;
    const notices = records.map((r) => parseNotice(r.Sns.Message));
    // SNS delivers one record per invocation; should that change, any Connect starts the run.
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

function parseNotice(message: string): ConnectionNotice {
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    throw new InvalidPayloadError(`Invalid accept payload: the SNS message is not JSON, so not a VPC endpoint connection notification: ${EXPECTED}`);
  }
  const { eventType, endpointId, serviceId } = parse(connectionNotice, body, 'SNS message');
  return { eventType, ...(endpointId ? { endpointId } : {}), ...(serviceId ? { serviceId } : {}) };
}

const parse = <T extends z.ZodMiniType>(schema: T, value: unknown, what: string) => parsePayload(schema, value, `accept payload (${what})`, EXPECTED);
