// Fivetran REST API client for Private Links (node fetch, no dependency). From Fivetran's API
// reference: base https://api.fivetran.com/v1, HTTP basic auth with the API key and secret,
// every answer an envelope {code, message, data}; GET /private-links lists with cursor
// pagination (?cursor=&limit=1..1000, data.items + data.next_cursor), POST /private-links
// creates (201), GET /private-links/{id} retrieves (404 when unknown), DELETE
// /private-links/{id} marks it for deletion (200 without data; the link turns DESTROYING).
// Rate limits ("Rate Limiting": 5 Private Link creations an hour on paid plans) answer 429,
// which processed nothing: we wait what Retry-After says, a few times. GETs (idempotent) are
// also retried after a timeout, a network error or a 5xx; POST and DELETE never are (a request
// that may have reached Fivetran is not sent twice). Every answer's shape is checked (zod) and a
// wrong one names the field. Basic credentials travel only over https (or to a loopback test
// server). The secret is only ever put in the Authorization header: never in an error
// message, a log line or an output.
import * as z from 'zod/mini';
import { ConfigError } from '../config.js';
import type { PrivateLink } from './decide.js';

export const FIVETRAN_API_URL = 'https://api.fivetran.com/v1';

export interface FivetranCredentials {
  apiKey: string;
  apiSecret: string;
}

export interface FivetranClientOptions extends FivetranCredentials {
  /** Default https://api.fivetran.com/v1 (FIVETRAN_API_URL points tests and the local run at the fake). */
  baseUrl?: string;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** 429 answers retried before giving up. Default 3. */
  maxRateLimitRetries?: number;
  /** GETs retried after a timeout, a network error or a 5xx. Default 2 (after 1 s, then 2 s). */
  maxGetRetries?: number;
  /** Pages `listPrivateLinks` follows at most. Default 100 (10,000 links at 100 a page). */
  maxPages?: number;
  /** Longest wait a Retry-After may impose. Default 60 s. */
  maxRetryAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
}

export class FivetranError extends Error {
  override name = 'FivetranError';
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
/** 401: the key or secret is wrong (or revoked). */
export class FivetranAuthError extends FivetranError {
  override name = 'FivetranAuthError';
}
/** 403: the key may not do this; Private Links need the Business Critical plan and self-service enabled by Fivetran. */
export class FivetranForbiddenError extends FivetranError {
  override name = 'FivetranForbiddenError';
}
export class FivetranNotFoundError extends FivetranError {
  override name = 'FivetranNotFoundError';
}
export class FivetranRateLimitError extends FivetranError {
  override name = 'FivetranRateLimitError';
  /** What the answer's Retry-After asked for. */
  retryAfterMs?: number;
}
export class FivetranTimeoutError extends FivetranError {
  override name = 'FivetranTimeoutError';
}
/** An answer that is not what the API reference describes (its shape, or a cursor that loops). */
export class FivetranAnswerError extends FivetranError {
  override name = 'FivetranAnswerError';
}

/** Worth another try for an idempotent request: no answer, a broken connection, a 5xx. */
export function isTransientFivetranError(err: unknown): boolean {
  return err instanceof FivetranTimeoutError || (err instanceof FivetranError && !(err instanceof FivetranAnswerError) && (err.status === undefined || err.status >= 500));
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * FIVETRAN_API_URL: https, or http to a loopback address only (the fake API in tests and
 * `npm run local`): Basic credentials over plain http are readable by anyone on the path.
 */
export function checkApiUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`FIVETRAN_API_URL ${url} is not a URL: use https://api.fivetran.com/v1`, ['FIVETRAN_API_URL is not a URL']);
  }
  const loopback = LOOPBACK_HOSTS.has(parsed.hostname) || /^127\./.test(parsed.hostname);
  if (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && loopback)) return url;
  throw new ConfigError(
    `FIVETRAN_API_URL must be an https URL (http only to 127.0.0.1 or localhost): ${parsed.protocol}//${parsed.host} would carry the API key and secret in clear text. Use https://api.fivetran.com/v1`,
    ['FIVETRAN_API_URL is not https'],
  );
}

// The answers, as the API reference documents them (only what we read; other fields pass).
const optionalText = z.pipe(z.optional(z.nullable(z.string())), z.transform((v) => v ?? undefined));
const LinkSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  name: z.string(),
  region: z.string(),
  service: z.string(),
  state: z.string(),
  state_summary: optionalText,
  host: optionalText,
  config: z.pipe(z.optional(z.nullable(z.looseObject({ connection_service_name: z.optional(z.string()) }))), z.transform((v) => v ?? undefined)),
});
const PageSchema = z.looseObject({ items: z.array(LinkSchema), next_cursor: optionalText });
const EnvelopeSchema = z.looseObject({ code: z.optional(z.string()), message: z.optional(z.string()), data: z.optional(z.unknown()) });

/** "data.items: expected array, received object": the first problem, with where it is. */
function describeIssues(error: z.core.$ZodError, prefix: string): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${[prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(the answer)'}: ${i.message}`)
    .join('; ');
}

export interface CreatePrivateLinkInput {
  name: string;
  region: string;
  service: string;
  config: { connection_service_name: string };
}

export interface FivetranClient {
  listPrivateLinks(): Promise<PrivateLink[]>;
  getPrivateLink(id: string): Promise<PrivateLink>;
  createPrivateLink(input: CreatePrivateLinkInput): Promise<PrivateLink>;
  /** Marks the link for deletion (it turns DESTROYING, then goes); 404 when it is gone already. */
  deletePrivateLink(id: string): Promise<{ message: string }>;
}


export function createFivetranClient(options: FivetranClientOptions): FivetranClient {
  const baseUrl = (options.baseUrl ?? FIVETRAN_API_URL).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRetries = options.maxRateLimitRetries ?? 3;
  const maxWait = options.maxRetryAfterMs ?? 60_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const doFetch = options.fetch ?? fetch;
  const authorization = `Basic ${Buffer.from(`${options.apiKey}:${options.apiSecret}`).toString('base64')}`;

  const maxGetRetries = options.maxGetRetries ?? 2;
  const maxPages = options.maxPages ?? 100;
  checkApiUrl(baseUrl);

  type Method = 'GET' | 'POST' | 'DELETE';
  interface Answer {
    status: number;
    data: unknown;
    message?: string | undefined;
    what: string;
  }

  /** One request and its envelope; `data` not yet checked. 429 waited out; GETs retried when transient. */
  async function call(method: Method, path: string, body?: unknown): Promise<Answer> {
    const what = `${method} ${path.split('?')[0]}`;
    let rateLimited = 0;
    let retried = 0;
    for (;;) {
      try {
        return await once(method, path, what, body);
      } catch (err) {
        // A 429 processed nothing: any method waits it out.
        if (err instanceof FivetranRateLimitError) {
          const wait = err.retryAfterMs ?? 1000;
          if (rateLimited >= maxRetries || wait > maxWait) throw new FivetranRateLimitError(`${err.message} (gave up after ${rateLimited + 1} tries; Retry-After ${wait} ms)`, 429, err.code);
          rateLimited++;
          await sleep(wait);
          continue;
        }
        // Only a GET is sent again: a POST or DELETE that may have reached Fivetran is not repeated.
        if (method === 'GET' && isTransientFivetranError(err) && retried < maxGetRetries) {
          retried++;
          await sleep(1000 * retried);
          continue;
        }
        throw err;
      }
    }
  }

  async function once(method: Method, path: string, what: string, body: unknown): Promise<Answer> {
    // One deadline for the headers and the body: a body that stalls after the headers is a timeout.
    const signal = AbortSignal.timeout(timeoutMs);
    const timedOut = (err: unknown) => new FivetranTimeoutError(`Fivetran API ${what}: no complete answer within ${timeoutMs} ms`, undefined, undefined, { cause: err });
    let response: Response;
    let text: string;
    try {
      response = await doFetch(`${baseUrl}${path}`, {
        method,
        headers: { Accept: 'application/json', Authorization: authorization, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal,
      });
      text = await response.text();
    } catch (err) {
      if ((err as Error).name === 'TimeoutError' || signal.aborted) throw timedOut(err);
      throw new FivetranError(`Fivetran API ${what}: ${(err as Error).message}`, undefined, undefined, { cause: err });
    }
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const envelope = EnvelopeSchema.safeParse(json);
    const { code, message: apiMessage } = envelope.success ? envelope.data : { code: undefined, message: undefined };
    if (response.ok) {
      if (!envelope.success) throw new FivetranAnswerError(`Fivetran API ${what} answered HTTP ${response.status} with ${json === undefined ? 'a body that is not JSON' : `an unexpected shape: ${describeIssues(envelope.error, '')}`}`, response.status);
      return { status: response.status, data: envelope.data.data, message: envelope.data.message, what };
    }
    const detail = `${code ? `${code}: ` : ''}${apiMessage ?? response.statusText}`;
    const message = `Fivetran API ${what} answered HTTP ${response.status}: ${detail}`;
    switch (response.status) {
      case 401:
        throw new FivetranAuthError(`${message}. Check FIVETRAN_API_KEY and FIVETRAN_API_SECRET (Fivetran dashboard: API key).`, 401, code);
      case 403:
        throw new FivetranForbiddenError(message, 403, code);
      case 404:
        throw new FivetranNotFoundError(message, 404, code);
      case 429:
        throw Object.assign(new FivetranRateLimitError(message, 429, code), { retryAfterMs: retryAfterMs(response.headers.get('retry-after')) });
      default:
        throw new FivetranError(message, response.status, code);
    }
  }

  /** The envelope's data, checked: a wrong shape names the field. */
  function dataOf<T>(answer: Answer, schema: z.ZodMiniType<T>): T {
    const parsed = schema.safeParse(answer.data);
    if (!parsed.success) {
      throw new FivetranAnswerError(`Fivetran API ${answer.what} answered HTTP ${answer.status} with an unexpected shape: ${describeIssues(parsed.error, 'data')}`, answer.status);
    }
    return parsed.data;
  }

  const link = (answer: Answer) => dataOf(answer, LinkSchema) as PrivateLink;

  return {
    async listPrivateLinks() {
      const links: PrivateLink[] = [];
      const seen = new Set<string>();
      let cursor: string | undefined;
      for (let page = 1; ; page++) {
        const query = `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const answer = dataOf(await call('GET', `/private-links${query}`), PageSchema);
        links.push(...(answer.items as PrivateLink[]));
        cursor = answer.next_cursor || undefined;
        if (!cursor) return links;
        // A cursor seen before would list the same pages forever.
        if (seen.has(cursor)) throw new FivetranAnswerError(`Fivetran API GET /private-links: next_cursor ${JSON.stringify(cursor)} came back after ${page} pages: the listing loops; stopped`);
        if (page >= maxPages) throw new FivetranAnswerError(`Fivetran API GET /private-links: more than ${maxPages} pages; stopped (links listed so far: ${links.length})`);
        seen.add(cursor);
      }
    },
    getPrivateLink: async (id) => link(await call('GET', `/private-links/${encodeURIComponent(id)}`)),
    createPrivateLink: async (input) => link(await call('POST', '/private-links', input)),
    deletePrivateLink: async (id) => {
      const answer = await call('DELETE', `/private-links/${encodeURIComponent(id)}`);
      return { message: answer.message ?? `Private link with id '${id}' is marked for deletion` };
    },
  };
}

/** Retry-After in seconds or as an HTTP date; absent or unreadable: 1 s. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null || header.trim() === '') return 1000;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? 1000 : Math.max(0, date - now);
}
