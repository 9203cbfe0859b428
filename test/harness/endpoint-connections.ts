// VPC endpoint connections for the local emulator: moto 5.2.1 has endpoint services but no
// connections (Describe/Accept/RejectVpcEndpointConnections answer HTTP 500). This is a small
// EC2 front on 127.0.0.1 that serves those three actions itself and proxies every other request
// to moto unchanged. The SDK reaches it through AWS_ENDPOINT_URL_EC2 (emulatorEnv sets it), so
// the real handler and CLI run against it with no test double.
//
// Shapes follow the EC2 API reference (query protocol, Version 2016-11-15) and the SDK's own
// deserializer (@aws-sdk/client-ec2 schemas): DescribeVpcEndpointConnections takes Filter.N
// (service-id, vpc-endpoint-state, vpc-endpoint-owner, vpc-endpoint-id), MaxResults (5..1000;
// larger answers 1000) and NextToken, and answers <vpcEndpointConnectionSet><item>... with
// serviceId, vpcEndpointId, vpcEndpointOwner, vpcEndpointState, vpcEndpointConnectionId,
// creationTimestamp, networkLoadBalancerArnSet, and <nextToken> while more remain.
// Accept/Reject take ServiceId and VpcEndpointId.N and answer 200 with <unsuccessful><item>
// <error><code/><message/></error><resourceId/></item> for each endpoint they did not change.
// States: pendingAcceptance -> (accept) pending -> available, as AWS does (the short `pending`
// step is documented in the PrivateLink endpoint lifecycle); pendingAcceptance -> rejected.
// Modelled, not documented: the error codes in `unsuccessful` (InvalidVpcEndpointId.NotFound,
// InvalidState) and the NextToken format. Consumers must not depend on them.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { DescribeVpcEndpointServiceConfigurationsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { emulatorClientConfig } from './seed.js';

export type ConnectionState = 'pendingAcceptance' | 'pending' | 'available' | 'rejected';

export interface EmulatedConnection {
  serviceId: string;
  endpointId: string;
  connectionId: string;
  owner: string;
  state: ConnectionState;
  created: Date;
  loadBalancerArns: string[];
}

export interface ConnectionFault {
  code: string;
  message: string;
}

export interface EndpointConnectionsOptions {
  /** Page size when a request names no MaxResults (AWS picks its own; small values exercise paging). Default 1000. */
  readonly defaultPageSize?: number;
  /** How long an accepted connection stays `pending` before `available`. Default 0 (next read). */
  readonly settleMs?: number;
}

export interface EndpointConnections {
  /** Base URL for AWS_ENDPOINT_URL_EC2. */
  readonly endpoint: string;
  /**
   * A consumer (another account) creates an interface endpoint to one of moto's endpoint
   * services: the connection appears in pendingAcceptance (or available when the service does
   * not require acceptance). Returns the endpoint ID (vpce-...).
   */
  createConsumerEndpoint(input: { serviceId: string; owner: string }): Promise<string>;
  /** Every connection, as the provider's side of EC2 would list them. */
  connections(): EmulatedConnection[];
  state(endpointId: string): ConnectionState | undefined;
  /** The next Accept or Reject naming this endpoint lists it in Unsuccessful with this error. */
  failNext(endpointId: string, fault: ConnectionFault): void;
  /**
   * A connection notification on an endpoint service (moto 5.2.1 has none: "not implemented"), as
   * CreateVpcEndpointConnectionNotification makes it; DescribeVpcEndpointConnectionNotifications
   * lists them (filter service-id). Returns the notification ID (vpce-nfn-...).
   */
  createConnectionNotification(input: { serviceId: string; topicArn: string }): string;
  /** How many requests each of the served actions answered. */
  calls(action: string): number;
  reset(): void;
  close(): Promise<void>;
}

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const SERVED = new Set(['DescribeVpcEndpointConnections', 'AcceptVpcEndpointConnections', 'RejectVpcEndpointConnections', 'DescribeVpcEndpointConnectionNotifications']);
const FILTERS = new Set(['service-id', 'vpc-endpoint-state', 'vpc-endpoint-owner', 'vpc-endpoint-id']);

class QueryError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startEndpointConnections(motoEndpoint: string, options: EndpointConnectionsOptions = {}): Promise<EndpointConnections> {
  const defaultPageSize = options.defaultPageSize ?? 1000;
  const settleMs = options.settleMs ?? 0;
  const store = new Map<string, EmulatedConnection & { acceptedAt?: number }>();
  const faults = new Map<string, ConnectionFault>();
  const callCount = new Map<string, number>();
  const tokens = new Map<string, { key: string; offset: number }>();
  const notifications = new Map<string, { serviceId: string; topicArn: string }>();

  const describeNotifications = (params: URLSearchParams): string => {
    const filters = [...params].filter(([key]) => /^Filter\.\d+\.Name$/.test(key));
    for (const [, name] of filters) if (name !== 'service-id') throw new QueryError('InvalidParameterValue', `The filter '${name}' is not modelled by the emulator`);
    const wanted = [...params].filter(([key]) => /^Filter\.\d+\.Value\.\d+$/.test(key)).map(([, v]) => v);
    const items = [...notifications]
      .filter(([, n]) => filters.length === 0 || wanted.includes(n.serviceId))
      .map(
        ([id, n]) =>
          `<item><connectionNotificationId>${id}</connectionNotificationId><serviceId>${n.serviceId}</serviceId>` +
          `<connectionNotificationType>Topic</connectionNotificationType><connectionNotificationArn>${esc(n.topicArn)}</connectionNotificationArn>` +
          `<connectionEvents><item>Connect</item></connectionEvents><connectionNotificationState>Enabled</connectionNotificationState></item>`,
      );
    return `<connectionNotificationSet>${items.join('')}</connectionNotificationSet>`;
  };

  const current = (c: EmulatedConnection & { acceptedAt?: number }): EmulatedConnection => {
    if (c.state === 'pending' && c.acceptedAt !== undefined && Date.now() - c.acceptedAt >= settleMs) c.state = 'available';
    const { acceptedAt: _, ...rest } = c;
    return { ...rest };
  };

  const describe = (params: URLSearchParams): string => {
    const filters = parseFilters(params);
    const maxResults = params.get('MaxResults');
    let pageSize = defaultPageSize;
    if (maxResults !== null) {
      const n = Number(maxResults);
      if (!Number.isInteger(n) || n < 5) throw new QueryError('InvalidParameterValue', `Value (${maxResults}) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
      pageSize = Math.min(n, 1000);
    }
    const matching = [...store.values()].map(current).filter((c) => filters.every(([name, values]) => values.includes(fieldOf(c, name))));
    // A token belongs to one query: the same filters must come back with it.
    const key = JSON.stringify(filters);
    let offset = 0;
    const token = params.get('NextToken');
    if (token !== null) {
      const saved = tokens.get(token);
      if (!saved || saved.key !== key) throw new QueryError('InvalidPaginationToken', `The pagination token ${token} is invalid.`);
      offset = saved.offset;
    }
    const page = matching.slice(offset, offset + pageSize);
    let next = '';
    if (offset + pageSize < matching.length) {
      const nextToken = randomBytes(12).toString('base64url');
      tokens.set(nextToken, { key, offset: offset + pageSize });
      next = `<nextToken>${nextToken}</nextToken>`;
    }
    return `<vpcEndpointConnectionSet>${page.map(connectionXml).join('')}</vpcEndpointConnectionSet>${next}`;
  };

  const change = (params: URLSearchParams, action: 'accept' | 'reject'): string => {
    const serviceId = params.get('ServiceId');
    if (!serviceId) throw new QueryError('MissingParameter', 'The request must contain the parameter ServiceId');
    const ids = listParam(params, 'VpcEndpointId');
    if (ids.length === 0) throw new QueryError('MissingParameter', 'The request must contain the parameter VpcEndpointId');
    const unsuccessful: string[] = [];
    for (const endpointId of ids) {
      const fault = faults.get(endpointId);
      const c = store.get(endpointId);
      let error: ConnectionFault | undefined = fault;
      if (fault) faults.delete(endpointId);
      else if (!c || c.serviceId !== serviceId) error = { code: 'InvalidVpcEndpointId.NotFound', message: `The Vpc Endpoint Id '${endpointId}' does not exist` };
      else if (current(c).state !== 'pendingAcceptance') error = { code: 'InvalidState', message: `Endpoint ${endpointId} is in state ${c.state}, not pendingAcceptance` };
      if (error || !c) {
        unsuccessful.push(`<item><error><code>${esc(error?.code ?? '')}</code><message>${esc(error?.message ?? '')}</message></error><resourceId>${esc(endpointId)}</resourceId></item>`);
        continue;
      }
      if (action === 'accept') Object.assign(c, { state: 'pending', acceptedAt: Date.now() });
      else c.state = 'rejected';
    }
    return `<unsuccessful>${unsuccessful.join('')}</unsuccessful>`;
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const params = new URLSearchParams(req.method === 'POST' ? body.toString('utf8') : (req.url ?? '').split('?')[1] ?? '');
    const action = params.get('Action') ?? '';
    if (!SERVED.has(action)) return proxy(req, res, body, motoEndpoint);
    callCount.set(action, (callCount.get(action) ?? 0) + 1);
    const requestId = randomBytes(16).toString('hex');
    try {
      const inner =
        action === 'DescribeVpcEndpointConnections'
          ? describe(params)
          : action === 'DescribeVpcEndpointConnectionNotifications'
            ? describeNotifications(params)
            : change(params, action === 'AcceptVpcEndpointConnections' ? 'accept' : 'reject');
      send(res, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${XMLNS}"><requestId>${requestId}</requestId>${inner}</${action}Response>`);
    } catch (err) {
      const { code, message } = err instanceof QueryError ? err : { code: 'InternalError', message: String(err) };
      send(res, err instanceof QueryError ? 400 : 500, `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`);
    }
  };

  const { server, port } = await listenOnLoopback(serve);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    async createConsumerEndpoint({ serviceId, owner }) {
      const ec2 = new EC2Client(emulatorClientConfig(motoEndpoint));
      try {
        const { ServiceConfigurations = [] } = await ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [serviceId] }));
        const service = ServiceConfigurations.find((s) => s.ServiceId === serviceId);
        if (!service) throw new Error(`no endpoint service ${serviceId} in moto`);
        const endpointId = `vpce-0${randomBytes(8).toString('hex').slice(0, 16)}`;
        store.set(endpointId, {
          serviceId,
          endpointId,
          connectionId: `vpce-con-0${randomBytes(8).toString('hex').slice(0, 16)}`,
          owner,
          state: service.AcceptanceRequired === false ? 'available' : 'pendingAcceptance',
          created: new Date(),
          loadBalancerArns: service.NetworkLoadBalancerArns ?? [],
        });
        return endpointId;
      } finally {
        ec2.destroy();
      }
    },
    connections: () => [...store.values()].map(current),
    state: (endpointId) => {
      const c = store.get(endpointId);
      return c ? current(c).state : undefined;
    },
    createConnectionNotification: ({ serviceId, topicArn }) => {
      const id = `vpce-nfn-0${randomBytes(8).toString('hex').slice(0, 16)}`;
      notifications.set(id, { serviceId, topicArn });
      return id;
    },
    failNext: (endpointId, fault) => void faults.set(endpointId, fault),
    calls: (action) => callCount.get(action) ?? 0,
    reset: () => {
      store.clear();
      faults.clear();
      notifications.clear();
      callCount.clear();
      tokens.clear();
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Filter.N.Name / Filter.N.Value.M -> [[name, values]]; an unknown filter name is an error, as in EC2. */
function parseFilters(params: URLSearchParams): [string, string[]][] {
  const filters = new Map<string, { name?: string; values: string[] }>();
  for (const [key, value] of params) {
    const m = /^Filter\.(\d+)\.(Name|Value\.\d+)$/.exec(key);
    if (!m?.[1] || !m[2]) continue;
    const f = filters.get(m[1]) ?? { values: [] };
    if (m[2] === 'Name') f.name = value;
    else f.values.push(value);
    filters.set(m[1], f);
  }
  return [...filters.values()].map(({ name, values }) => {
    if (!name || !FILTERS.has(name)) throw new QueryError('InvalidParameterValue', `The filter '${name ?? ''}' is invalid`);
    return [name, values];
  });
}

function fieldOf(c: EmulatedConnection, filter: string): string {
  switch (filter) {
    case 'service-id':
      return c.serviceId;
    case 'vpc-endpoint-state':
      return c.state;
    case 'vpc-endpoint-owner':
      return c.owner;
    default:
      return c.endpointId;
  }
}

function listParam(params: URLSearchParams, name: string): string[] {
  return [...params]
    .filter(([key]) => new RegExp(`^${name}\\.\\d+$`).test(key))
    .sort(([a], [b]) => Number(a.split('.')[1]) - Number(b.split('.')[1]))
    .map(([, v]) => v);
}

function connectionXml(c: EmulatedConnection): string {
  return (
    `<item><serviceId>${c.serviceId}</serviceId><vpcEndpointId>${c.endpointId}</vpcEndpointId>` +
    `<vpcEndpointOwner>${c.owner}</vpcEndpointOwner><vpcEndpointState>${c.state}</vpcEndpointState>` +
    `<creationTimestamp>${c.created.toISOString()}</creationTimestamp>` +
    `<networkLoadBalancerArnSet>${c.loadBalancerArns.map((a) => `<item>${esc(a)}</item>`).join('')}</networkLoadBalancerArnSet>` +
    `<ipAddressType>ipv4</ipAddressType><vpcEndpointConnectionId>${c.connectionId}</vpcEndpointConnectionId></item>`
  );
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** An XML answer, as the query-protocol APIs give them. */
export function send(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

/** An HTTP front on a free loopback port; a request `serve` fails on answers 502 (or is cut if it began). */
export async function listenOnLoopback(serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 502, String(err));
      else res.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** Forwards the request to `target` (moto) unchanged and relays the answer. */
export async function proxy(req: IncomingMessage, res: ServerResponse, body: Buffer, target: string): Promise<void> {
  respond(res, await forward(req, body, target));
}

export interface Upstream {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** Sends the request on to `target` and reads its answer (for a proxy that acts before it answers). */
export async function forward(req: IncomingMessage, body: Buffer, target: string): Promise<Upstream> {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined || ['host', 'connection', 'content-length', 'transfer-encoding'].includes(key)) continue;
    headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const upstream = await fetch(`${target}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers,
    ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
  });
  const out = Buffer.from(await upstream.arrayBuffer());
  const responseHeaders: Record<string, string> = {};
  upstream.headers.forEach((value, key) => {
    if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(key)) responseHeaders[key] = value;
  });
  return { status: upstream.status, headers: responseHeaders, body: out };
}

export function respond(res: ServerResponse, upstream: Upstream): void {
  res.writeHead(upstream.status, { ...upstream.headers, 'content-length': upstream.body.length });
  res.end(upstream.body);
}

/** The SNS event AWS delivers for a connection notification (shape of test/events/sns-connection-notification.json). */
export function connectionNotification(template: unknown, notice: { endpointId: string; serviceId: string; eventType?: string; endpointState?: string }): unknown {
  const event = structuredClone(template) as { Records: { Sns: { Message: string } }[] };
  const eventType = notice.eventType ?? 'Connect';
  const endpointState = notice.endpointState ?? 'pendingAcceptance';
  for (const record of event.Records) {
    const message = JSON.parse(record.Sns.Message) as Record<string, unknown>;
    record.Sns.Message = JSON.stringify({
      ...message,
      smsText: `Endpoint ${notice.endpointId} for service ${notice.serviceId} is in state ${endpointState}`,
      eventType,
      endpointId: notice.endpointId,
      serviceId: notice.serviceId,
      endpointState,
    });
  }
  return event;
}
