// One Powertools logger per function: structured JSON with the request ID and cold-start flag.
// POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL (set in serverless.yml) configure it.
import { Logger } from '@aws-lambda-powertools/logger';

/** The slice of a logger the lib/ code uses, so tests can pass a recorder. */
export interface Log {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/** Error fields for a log line or a summary: JSON.stringify(err) would print {}. */
export function describeError(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}
