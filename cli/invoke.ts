// `rds-nlb-sync sync` asks the deployed function to run: one sync at a time (reserved concurrency 1)
// and the function's own view of DNS and the VPC, instead of a second, overlapping run from a
// laptop with its own (possibly stale) answer. `--local` runs in-process instead.
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { SyncSummary } from '../lib/sync/run.js';

/** What the function accepts as a manual payload (lib/sync/event.ts). */
export interface SyncPayload {
  force?: boolean;
  dryRun?: boolean;
  endpoints?: string[];
}

export class InvokeFailedError extends Error {
  override name = 'InvokeFailedError';
}

/** The deployed sync function: --function, else SYNC_FUNCTION_NAME, else the stage's name. */
export function syncFunctionName(flagValue: string | undefined, setting: string | undefined, stage: string | undefined): string | undefined {
  return flagValue ?? setting ?? (stage ? `rds-nlb-sync-${stage}-sync` : undefined);
}

/** Invokes the function and waits for its summary; a run that failed there fails here with its message. */
export async function invokeSync(lambda: LambdaClient, functionName: string, payload: SyncPayload): Promise<SyncSummary> {
  const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (out.FunctionError) {
    const { errorType, errorMessage } = (body ?? {}) as { errorType?: string; errorMessage?: string };
    throw new InvokeFailedError(`${functionName} failed: ${errorType ?? out.FunctionError}: ${errorMessage ?? text}`);
  }
  if (!body || typeof body !== 'object' || !('mappings' in body)) throw new InvokeFailedError(`${functionName} answered without a sync summary: ${text.slice(0, 200)}`);
  return body as SyncSummary;
}
