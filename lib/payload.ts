// Invoke payloads are parsed before any AWS call; what does not fit is a 4xx-style error.
import type * as z from 'zod/mini';
import { formatPath } from './config.js';
import { InvalidPayloadError } from './errors.js';

/** `schema`'s output, or an InvalidPayloadError naming each problem and what was expected. */
export function parsePayload<T extends z.ZodMiniType>(schema: T, value: unknown, what: string, expected: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => (i.path.length ? `${formatPath(i.path)}: ${i.message}` : i.message));
  throw new InvalidPayloadError(`Invalid ${what} (${problems.join('; ')}): ${expected}`);
}

/**
 * An AWS envelope (schedule, RDS event, SNS) is matched loosely, since AWS adds fields; so a
 * manual-only field on one ({"source":"aws.events",...,"dryRun":true}) would be dropped and the
 * run go ahead for real. Refused instead, naming the field.
 */
export function refuseManualFields(event: object, fields: readonly string[], what: string, expected: string): void {
  const found = fields.filter((field) => field in event);
  if (found.length === 0) return;
  throw new InvalidPayloadError(
    `Invalid ${what} (${found.join(', ')}: a manual payload's field; on an AWS event it would be ignored and the run go ahead for real): ${expected}`,
  );
}
