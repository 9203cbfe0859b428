// Imports a handler module afresh with the given environment, as a Lambda cold start does
// (the handlers read their config at import). Error classes then differ per import, so
// tests match errors by name.
import type { Context } from 'aws-lambda';
import { vi } from 'vitest';

const context = { functionName: 'test', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** A fresh module graph and exactly `env` stubbed on top of the test environment. */
export function resetForColdStart(env: Record<string, string>): void {
  vi.resetModules();
  vi.unstubAllEnvs();
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
}

export async function coldStart<T = unknown>(load: () => Promise<{ handler: Handler }>, env: Record<string, string>): Promise<(event: unknown) => Promise<T>> {
  resetForColdStart(env);
  const { handler } = await load();
  return (event) => handler(event, context) as Promise<T>;
}
