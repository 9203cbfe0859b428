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
