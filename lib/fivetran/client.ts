// Fivetran REST API client for Private Links (node fetch, no dependency). From Fivetran's API
// reference: base https://api.fivetran.com/v1, HTTP basic auth with the API key and secret,
// every answer an envelope {code, message, data}; GET /private-links lists with cursor
// pagination (?cursor=&limit=1..1000, data.items + data.next_cursor), POST /private-links
// creates (201), GET /private-links/{id} retrieves (404 when unknown). Rate limits ("Rate
// Limiting": 5 Private Link creations an hour on paid plans) answer 429; we wait what
// Retry-After says, a few times, and retry nothing else. The secret is only ever put in the
// Authorization header: never in an error message, a log line or an output.
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
}
export class FivetranTimeoutError extends FivetranError {
  override name = 'FivetranTimeoutError';
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
}

interface Envelope<T> {
  code?: string;
  message?: string;
  data?: T;
}

export function createFivetranClient(options: FivetranClientOptions): FivetranClient {
  const baseUrl = (options.baseUrl ?? FIVETRAN_API_URL).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRetries = options.maxRateLimitRetries ?? 3;
  const maxWait = options.maxRetryAfterMs ?? 60_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const doFetch = options.fetch ?? fetch;
  const authorization = `Basic ${Buffer.from(`${options.apiKey}:${options.apiSecret}`).toString('base64')}`;

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const what = `${method} ${path.split('?')[0]}`;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await doFetch(`${baseUrl}${path}`, {
          method,
          headers: { Accept: 'application/json', Authorization: authorization, ...(body ? { 'Content-Type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        if ((err as Error).name === 'TimeoutError') throw new FivetranTimeoutError(`Fivetran API ${what}: no answer within ${timeoutMs} ms`, undefined, undefined, { cause: err });
        throw new FivetranError(`Fivetran API ${what}: ${(err as Error).message}`, undefined, undefined, { cause: err });
      }
      const envelope = (await response.json().catch(() => ({}))) as Envelope<T>;
      if (response.ok && envelope.data !== undefined) return envelope.data;
      const detail = `${envelope.code ? `${envelope.code}: ` : ''}${envelope.message ?? response.statusText}`;
      const message = `Fivetran API ${what} answered HTTP ${response.status}: ${detail}`;
      switch (response.status) {
        case 401:
          throw new FivetranAuthError(`${message}. Check FIVETRAN_API_KEY and FIVETRAN_API_SECRET (Fivetran dashboard: API key).`, 401, envelope.code);
        case 403:
          throw new FivetranForbiddenError(message, 403, envelope.code);
        case 404:
          throw new FivetranNotFoundError(message, 404, envelope.code);
        case 429: {
          const wait = retryAfterMs(response.headers.get('retry-after'));
          if (attempt >= maxRetries || wait > maxWait) throw new FivetranRateLimitError(`${message} (gave up after ${attempt + 1} tries; Retry-After ${wait} ms)`, 429, envelope.code);
          await sleep(wait);
          continue;
        }
        default:
          throw new FivetranError(response.ok ? `Fivetran API ${what}: the answer has no data` : message, response.status, envelope.code);
      }
    }
  }

  return {
    async listPrivateLinks() {
      const links: PrivateLink[] = [];
      let cursor: string | undefined;
      do {
        const query = `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await call<{ items?: PrivateLink[]; next_cursor?: string | null }>('GET', `/private-links${query}`);
        links.push(...(page.items ?? []));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return links;
    },
    getPrivateLink: (id) => call<PrivateLink>('GET', `/private-links/${encodeURIComponent(id)}`),
    createPrivateLink: (input) => call<PrivateLink>('POST', '/private-links', input),
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
