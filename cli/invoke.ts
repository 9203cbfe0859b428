// `rds-nlb-sync sync` asks the deployed function to run: one sync at a time (reserved concurrency 1)
// and the function's own view of DNS and the VPC, instead of a second, overlapping run from a
// laptop with its own (possibly stale) answer. `--local` runs in-process instead.
//
// Invoke is not idempotent: a request that reached Lambda runs the function, whether or not its
// answer comes back. So Invoke gets its own client: a request timeout that covers the function's
// own timeout (read with GetFunctionConfiguration), and no SDK retry. invokeSync retries only what
// provably never reached Lambda: no connection made, or Lambda's throttle (the function did not run).
import { GetFunctionConfigurationCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { isUnreachable } from '../lib/aws/clients.js';
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

/** Lambda's longest function timeout: the bound when the function's own cannot be read. */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;
/** Added to the function's timeout: a cold start's init (up to 10 s) and the round trip. */
export const INVOKE_MARGIN_MS = 15_000;
/** Tries for a request that never reached Lambda (no connection, throttled). */
export const INVOKE_TRIES = 3;

/** The deployed sync function: --function, else SYNC_FUNCTION_NAME, else the stage's name. */
export function syncFunctionName(flagValue: string | undefined, setting: string | undefined, stage: string | undefined): string | undefined {
  return flagValue ?? setting ?? (stage ? `rds-nlb-sync-${stage}-sync` : undefined);
}

export interface InvokeDeps {
  /** The CLI's ordinary client (retries, short timeouts): reads the function's timeout. */
  lambda: LambdaClient;
  /** A client for Invoke itself: this request timeout, no SDK retries. */
  invokeClient: (requestTimeoutMs: number) => LambdaClient;
  sleep?: (ms: number) => Promise<void>;
}

export interface InvokeResult {
  /** The run's summary: the function's answer, or for a failed run the summary line in its log tail. */
  summary: SyncSummary;
  /** The function's error, when the run failed there. */
  error?: { name: string; message: string };
  /** How many Invoke requests were sent (1 unless one provably never reached Lambda). */
  attempts: number;
  requestTimeoutMs: number;
}

/** The function's timeout in ms, or Lambda's maximum when it cannot be read (no permission). */
export async function functionTimeoutMs(lambda: LambdaClient, functionName: string): Promise<number> {
  try {
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    return (config?.Timeout ?? LAMBDA_MAX_TIMEOUT_SECONDS) * 1000;
  } catch (err) {
    if ((err as Error).name === 'AccessDeniedException') return LAMBDA_MAX_TIMEOUT_SECONDS * 1000;
    throw err;
  }
}

// Errors raised before a byte of the request left this machine: retrying cannot run the function twice.
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** True only when the request provably never reached Lambda, or Lambda refused it without running the function. */
export function invokeNotSent(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
    // node-http-handler's connection timeout (the request timeout's message differs).
    if (e.name === 'TimeoutError' && /did not establish a connection/.test(e.message)) return true;
    // Reserved concurrency or account limit: Lambda answered 429 and ran nothing.
    if (e.name === 'TooManyRequestsException') return true;
  }
  return false;
}

const chain = (err: unknown): Error[] => {
  const errors: Error[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) errors.push(e);
  return errors;
};
const requestTimedOut = (err: unknown) => chain(err).some((e) => e.name === 'TimeoutError');
const rootMessage = (err: unknown) => chain(err).at(-1)?.message ?? String(err);
/** No answer, though the request may have reached Lambda: timed out or cut after connecting. */
const sentWithoutAnswer = (err: unknown) => !invokeNotSent(err) && chain(err).some((e) => isUnreachable(e));

/** Invokes the function once (retrying only a request that never reached it) and waits for its summary. */
export async function invokeSync(functionName: string, payload: SyncPayload, deps: InvokeDeps): Promise<InvokeResult> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const requestTimeoutMs = (await functionTimeoutMs(deps.lambda, functionName)) + INVOKE_MARGIN_MS;
  const client = deps.invokeClient(requestTimeoutMs);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await client.send(
          new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', LogType: 'Tail', Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
        );
        return { ...readAnswer(functionName, out), attempts: attempt, requestTimeoutMs };
      } catch (err) {
        if (err instanceof InvokeFailedError) throw err;
        if (invokeNotSent(err) && attempt < INVOKE_TRIES) {
          await sleep(1000 * attempt);
          continue;
        }
        if (sentWithoutAnswer(err)) {
          const what = requestTimedOut(err) ? `sent no answer within ${Math.round(requestTimeoutMs / 1000)} s (its timeout plus ${INVOKE_MARGIN_MS / 1000} s)` : `was asked to run, then the connection broke (${rootMessage(err)})`;
          throw new InvokeFailedError(
            `${functionName} ${what}. The run may have happened: its summary is in the function's log group (/aws/lambda/${functionName}). ` +
              'Not invoked again, so nothing ran twice.',
            { cause: err },
          );
        }
        throw err;
      }
    }
  } finally {
    client.destroy();
  }
}

function readAnswer(functionName: string, out: { Payload?: Uint8Array; FunctionError?: string; LogResult?: string }): Omit<InvokeResult, 'attempts' | 'requestTimeoutMs'> {
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (out.FunctionError) {
    const { errorType, errorMessage } = (body ?? {}) as { errorType?: string; errorMessage?: string };
    const error = { name: errorType ?? out.FunctionError, message: errorMessage ?? text };
    const summary = summaryFromLogTail(out.LogResult);
    if (!summary) throw new InvokeFailedError(`${functionName} failed: ${error.name}: ${error.message}`);
    return { summary, error };
  }
  if (!isSummary(body)) throw new InvokeFailedError(`${functionName} answered without a sync summary: ${text.slice(0, 200)}`);
  return { summary: body };
}

const isSummary = (value: unknown): value is SyncSummary =>
  typeof value === 'object' && value !== null && Array.isArray((value as { mappings?: unknown }).mappings) && typeof (value as { outcome?: unknown }).outcome === 'string';

/**
 * A failed run throws after logging its summary ("sync run", lib/sync/run.ts): Invoke's LogType
 * Tail returns the last 4 KB of the run's log, where that line is, unless it was longer.
 */
export function summaryFromLogTail(logResult: string | undefined): SyncSummary | undefined {
  if (!logResult) return undefined;
  const lines = Buffer.from(logResult, 'base64').toString('utf8').split('\n');
  for (const line of lines.reverse()) {
    const start = line.indexOf('{');
    if (start < 0) continue;
    try {
      const entry = JSON.parse(line.slice(start)) as Record<string, unknown>;
      if (entry.message === 'sync run' && isSummary(entry)) {
        const { trigger, outcome, dryRun, force, durationMs, mappings, failed, event } = entry as unknown as SyncSummary;
        // metricsSent is not in the line (it is logged before the metrics are sent).
        return { trigger, outcome, dryRun, force, durationMs, mappings, failed, metricsSent: false, ...(event ? { event } : {}) };
      }
    } catch {
      // Not a JSON line (START, END, REPORT, or a line cut at the tail's start).
    }
  }
  return undefined;
}
