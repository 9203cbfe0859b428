// A fake of Fivetran's REST API for Private Links on 127.0.0.1, built from the public reference
// (see lib/fivetran/client.ts and decide.ts for the pages read): basic auth (401 otherwise),
// envelope {code, message, data}, GET /v1/private-links with cursor pagination, POST (201,
// state CREATING), GET /v1/private-links/{id} (404 when unknown), 429 with Retry-After on
// demand, DELETE /v1/private-links/{id} (200 "marked for deletion", the link turns DESTROYING;
// 404 when unknown), CREATING -> OK or -> FAIL (with state_summary) as the test or the local run
// decides, and faults on demand (a status, an odd body, no answer, a stalled body, a reset). Tests and `npm run local` never call the real API.
// Modelled, not documented: the error `code` strings and the cursor format.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FIVETRAN_AWS_REGIONS, isValidLinkName, type PrivateLink } from '../../lib/fivetran/decide.js';

export interface Settled {
  state: 'OK' | 'FAIL';
  summary?: string;
}

/** What a faulty request gets instead of the API's answer. */
export type Fault =
  | { status: number }
  /** Answered 200 with this JSON body (a shape the reference does not describe). */
  | { body: unknown }
  /** Never answered. */
  | 'hang'
  /** Headers sent, then the body stops. */
  | 'stall'
  /** The connection is cut. */
  | 'reset';

export interface FaultRule {
  /** How many matching requests get the fault. */
  count: number;
  method?: string;
  /** Matched against the path with its query, e.g. /^\/v1\/private-links\/[^?]+$/ for the polls. */
  path?: RegExp;
  fault: Fault;
}

export interface FakeFivetranOptions {
  readonly apiKey?: string;
  readonly apiSecret?: string;
  /** Items per list page when the request asks for more. Default 100 (the API's default limit). */
  readonly pageSize?: number;
  /** Called when a link is created: the local run makes Fivetran's interface endpoint here. */
  readonly onCreate?: (link: PrivateLink) => void | Promise<void>;
  /**
   * Decides a CREATING link's next state on each read; undefined keeps it CREATING.
   * Default: OK on the first read after creation.
   */
  readonly settle?: (link: PrivateLink) => Settled | undefined | Promise<Settled | undefined>;
}

export interface FakeFivetran {
  /** Base URL for FIVETRAN_API_URL, e.g. http://127.0.0.1:40123/v1 */
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  links(): PrivateLink[];
  /** Adds a link as if made earlier (e.g. from the dashboard). */
  addLink(link: Partial<PrivateLink> & Pick<PrivateLink, 'name'>): PrivateLink;
  /** The next `count` requests answer 429 with this Retry-After (seconds). */
  rateLimitNext(count: number, retryAfterSeconds: number): void;
  /** Creation answers 403 with this message (plan or self-service not enabled). */
  refuseCreate(message: string): void;
  /** The next `count` requests that match get this fault instead of the answer (after auth). */
  injectFault(rule: FaultRule): void;
  /** Every request: method, path with query, whether its credentials were right. */
  requests(): { method: string; path: string; authorized: boolean }[];
  close(): Promise<void>;
}

export async function startFakeFivetran(options: FakeFivetranOptions = {}): Promise<FakeFivetran> {
  const apiKey = options.apiKey ?? 'test-key';
  const apiSecret = options.apiSecret ?? 'test-secret';
  const pageSize = options.pageSize ?? 100;
  const settle = options.settle ?? ((): Settled => ({ state: 'OK' }));
  const links: PrivateLink[] = [];
  const log: { method: string; path: string; authorized: boolean }[] = [];
  let limited = { count: 0, retryAfter: 0 };
  let refusal: string | undefined;
  const faults: FaultRule[] = [];
  const expected = `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}`;

  const newLink = (fields: Partial<PrivateLink> & Pick<PrivateLink, 'name'>): PrivateLink => ({
    id: fields.id ?? `${randomBytes(6).toString('hex')}_pl`,
    region: 'AWS_EU_WEST_1',
    service: 'SOURCE_AWS',
    state: 'CREATING',
    state_summary: '',
    host: `${randomBytes(4).toString('hex')}.privatelink.fivetran.example`,
    created_at: new Date().toISOString(),
    created_by: 'api_user',
    cloud_provider: 'AWS',
    account_id: 'fivetran_account',
    config: {},
    ...fields,
  } as PrivateLink);

  const advance = async (link: PrivateLink) => {
    if (link.state !== 'CREATING') return;
    const next = await settle(link);
    if (next) Object.assign(link, { state: next.state, state_summary: next.summary ?? '' });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const authorized = req.headers.authorization === expected;
    log.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, authorized });
    if (limited.count > 0) {
      limited.count--;
      return reply(res, 429, { code: 'TooManyRequests', message: 'Rate limit exceeded' }, { 'retry-after': String(limited.retryAfter) });
    }
    if (!authorized) return reply(res, 401, { code: 'AuthFailed', message: 'Authentication failed: check the API key and secret' });
    const path = `${url.pathname}${url.search}`;
    const rule = faults.find((f) => f.count > 0 && (!f.method || f.method === req.method) && (!f.path || f.path.test(path)));
    if (rule) {
      rule.count--;
      return injected(req, res, rule.fault);
    }

    const id = /^\/v1\/private-links\/([^/]+)$/.exec(url.pathname)?.[1];
    if (req.method === 'GET' && url.pathname === '/v1/private-links') {
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 1000, pageSize);
      const cursor = url.searchParams.get('cursor');
      const offset = cursor ? Number(Buffer.from(cursor, 'base64url').toString('utf8')) : 0;
      if (!Number.isInteger(offset) || offset < 0) return reply(res, 400, { code: 'InvalidInput', message: 'Invalid cursor' });
      for (const link of links.slice(offset, offset + limit)) await advance(link);
      const items = links.slice(offset, offset + limit).map((l) => ({ ...l }));
      const next = offset + limit < links.length ? Buffer.from(String(offset + limit)).toString('base64url') : null;
      return reply(res, 200, { code: 'Success', message: 'Operation performed.', data: { items, next_cursor: next } });
    }
    if (req.method === 'GET' && id) {
      const link = links.find((l) => l.id === decodeURIComponent(id));
      if (!link) return reply(res, 404, { code: 'NotFound_PrivateLink', message: `Private link with id '${id}' doesn't exist` });
      await advance(link);
      return reply(res, 200, { code: 'Success', message: 'Operation performed.', data: { ...link } });
    }
    if (req.method === 'DELETE' && id) {
      const link = links.find((l) => l.id === decodeURIComponent(id));
      if (!link) return reply(res, 404, { code: 'NotFound_PrivateLink', message: `Private link with id '${id}' doesn't exist` });
      Object.assign(link, { state: 'DESTROYING', state_summary: '' });
      return reply(res, 200, { code: 'Success', message: `Private link with id '${link.id}' is marked for deletion` });
    }
    if (req.method === 'POST' && url.pathname === '/v1/private-links') {
      if (refusal) return reply(res, 403, { code: 'NotAllowed', message: refusal });
      const body = JSON.parse((await readBody(req)) || '{}') as Partial<PrivateLink> & { config?: Record<string, unknown> };
      const problems = [
        ...(typeof body.name === 'string' && isValidLinkName(body.name) ? [] : ['name']),
        ...(typeof body.region === 'string' && FIVETRAN_AWS_REGIONS.includes(body.region) ? [] : ['region']),
        ...(body.service === 'SOURCE_AWS' ? [] : ['service']),
        ...(typeof body.config?.connection_service_name === 'string' ? [] : ['config.connection_service_name']),
      ];
      if (problems.length > 0) return reply(res, 400, { code: 'InvalidInput', message: `Invalid or missing: ${problems.join(', ')}` });
      const link = newLink({ name: body.name ?? '', region: body.region ?? '', service: 'SOURCE_AWS', config: { connection_service_name: body.config?.connection_service_name as string } });
      links.push(link);
      await options.onCreate?.(link);
      return reply(res, 201, { code: 'Success', message: 'Private link has been created', data: { ...link } });
    }
    return reply(res, 404, { code: 'NotFound', message: `No route ${req.method} ${url.pathname}` });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => reply(res, 500, { code: 'InternalError', message: String(err) }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    apiKey,
    apiSecret,
    links: () => links.map((l) => ({ ...l })),
    addLink: (fields) => {
      const link = newLink(fields);
      links.push(link);
      return { ...link };
    },
    rateLimitNext: (count, retryAfter) => void (limited = { count, retryAfter }),
    injectFault: (rule) => void faults.push({ ...rule }),
    refuseCreate: (message) => void (refusal = message),
    requests: () => [...log],
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function injected(req: IncomingMessage, res: ServerResponse, fault: Fault): void {
  if (fault === 'hang') return;
  if (fault === 'reset') return void req.socket.destroy();
  if (fault === 'stall') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 1000 });
    res.write('{"code":"Success","data":');
    return;
  }
  if ('status' in fault) return reply(res, fault.status, { code: 'ServiceUnavailable', message: 'Service temporarily unavailable' });
  reply(res, 200, fault.body);
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
