// A tiny AWS on 127.0.0.1 for the benchmarks: enough of ELBv2 (query protocol, XML), CloudWatch
// (JSON 1.0), EC2 (EC2 query, XML) and RDS (DescribeDBClusters, DescribeDBInstances and
// DescribeDBClusterEndpoints, by identifier or with the filters lib/aws/rds.ts sends, in pages of
// MaxRecords, at most 100 values a filter as AWS enforces) for sync and accept, with an artificial delay per call, a
// count of calls per action and a log of RegisterTargets. The real SDK clients talk to it through
// AWS_ENDPOINT_URL, so the bundles run end to end. Not an emulator: no validation, no errors but
// ELB's throttling when asked for.
// Target health follows AWS's timing (test/harness/elb-timing.ts, the model the integration
// tests' ELB front uses), scaled by `elbScale`: a registered target is `initial` for the
// registration delay and the initial health checks, a deregistered one `draining`.
// With `elbThrottling`, ELB's API throttling as well (ELB_THROTTLING below): a request past its
// token bucket is answered `Throttling` / `Rate exceeded`, as AWS answers it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AWS_ELB_TIMING, ElbTimingModel, scaleTiming, type ElbTiming, type TargetHistory } from '../test/harness/elb-timing.js';

export interface FakeTarget {
  ip: string;
  port: number;
  availabilityZone?: string;
}

export interface Registration {
  targetGroupArn: string;
  targets: FakeTarget[];
  /** performance.now() when the call took effect (after the delay). */
  at: number;
}

/** An RDS cluster member: its instance ID, role and instance endpoint. */
export interface FakeMember {
  id: string;
  writer: boolean;
  address: string;
}

/** A target group as DescribeTargetGroups and DescribeTags show it (discovery, lib/aws/target-groups.ts). */
export interface FakeTargetGroup {
  arn: string;
  name: string;
  port: number;
  tags: Record<string, string>;
}

/** A custom endpoint's rule, as DescribeDBClusterEndpoints shows it. */
export interface FakeCustomEndpoint {
  clusterId: string;
  type: 'ANY' | 'READER';
  staticMembers?: string[];
  excludedMembers?: string[];
}

/** RDS refuses a filter with more identifiers than this (InvalidParameterCombination). */
export const RDS_FILTER_MAX_VALUES = 100;

/** DescribeTags' limit: AWS rejects more ARNs in one call. */
export const DESCRIBE_TAGS_MAX_ARNS = 20;

/** A token bucket: `capacity` tokens, `refillPerSecond` added back a second (never above capacity). */
export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

/**
 * ELB API v2's request throttling, per account and region (ELB user guide, "Request throttling for
 * the ELB API"): every request takes a token from its action's bucket, and a request that finds
 * none fails with `Rate exceeded`. The guide's figures are for the non-mutating actions
 * (`Describe*`): a bucket of 40 tokens refilled at 10 a second, shared with everything else the
 * account calls (console, Terraform). It gives none for the mutating actions (RegisterTargets,
 * DeregisterTargets, ModifyListener...): the same 40 / 10 a second is ASSUMED for them, in a bucket
 * of their own. The refill is continuous here (one token every 100 ms), the guide's "10 tokens
 * every second" spread over the second.
 */
export const ELB_THROTTLING: { describe: BucketSpec; mutate: BucketSpec } = {
  describe: { capacity: 40, refillPerSecond: 10 },
  /** Assumed: the guide documents no figure for the mutating actions. */
  mutate: { capacity: 40, refillPerSecond: 10 },
};

/** Which of ELB's buckets an action draws on: `Describe*` the non-mutating one, the rest the mutating one. */
export const elbBucketOf = (action: string): keyof typeof ELB_THROTTLING => (action.startsWith('Describe') ? 'describe' : 'mutate');

/** One token bucket on an injectable clock (ms). */
export class TokenBucket {
  private tokens: number;
  private at: number;
  constructor(
    readonly spec: BucketSpec,
    private readonly now: () => number,
  ) {
    this.tokens = spec.capacity;
    this.at = now();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.spec.capacity, this.tokens + ((now - this.at) / 1000) * this.spec.refillPerSecond);
    this.at = now;
  }

  /** Takes a token if there is one; false: the request is throttled. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Tokens now (fractional while refilling). */
  level(): number {
    this.refill();
    return this.tokens;
  }

  /** ms until the bucket is full again. */
  msUntilFull(): number {
    return ((this.spec.capacity - this.level()) / this.spec.refillPerSecond) * 1000;
  }
}

export interface FakeAwsOptions {
  /** Delay of every call, ms: a stand-in for the round trip to the regional endpoint. */
  latencyMs?: number;
  /** What DescribeVpcEndpointConnections lists as pendingAcceptance (EC2 has no state here). */
  pendingConnections?: { serviceId: string; endpointId: string; owner: string }[];
  /** Multiplies AWS's ELB target timing (AWS_ELB_TIMING). Default 0.001 (registration 180 s -> 180 ms). */
  elbScale?: number;
  /**
   * ELB's API throttling (ELB_THROTTLING, or other buckets): ELB requests past their bucket are
   * answered HTTP 400 `Throttling` / `Rate exceeded`. Default off (no throttling, as before).
   */
  elbThrottling?: boolean | { describe: BucketSpec; mutate: BucketSpec };
  /** The buckets' clock, ms. Default performance.now(). */
  now?: () => number;
}

export interface FakeAws {
  /** http://127.0.0.1:PORT, for AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  latencyMs: number;
  /** Creates or replaces an RDS cluster and its members (DescribeDBClusters, DescribeDBInstances). */
  setCluster(clusterId: string, members: FakeMember[]): void;
  /** Creates or replaces a custom endpoint (DescribeDBClusterEndpoints). */
  setCustomEndpoint(endpointId: string, endpoint: FakeCustomEndpoint): void;
  /** Target groups DescribeTargetGroups lists (pages of PageSize, Marker = next index) and DescribeTags tags. */
  setTargetGroups(groups: FakeTargetGroup[]): void;
  /** Replaces a target group's targets, all `healthy` (a group in steady state). */
  setTargets(targetGroupArn: string, targets: FakeTarget[]): void;
  /** The ELB timing in force (scaled) and AWS's unscaled terms. */
  readonly elbTiming: { scale: number; scaled: ElbTiming; unscaled: ElbTiming };
  /** Registrations as the timing model saw them, times in performance.now() ms (firstHealthyAt, goneAt...). */
  targetHistory(targetGroupArn: string): TargetHistory[];
  targets(targetGroupArn: string): FakeTarget[];
  /** Calls answered per action since the start or the last resetCounts() (throttled ones not included). */
  counts(): Record<string, number>;
  totalCalls(): number;
  /** ELB requests refused with `Throttling` per action, since the start or the last resetCounts(). */
  throttled(): Record<string, number>;
  resetCounts(): void;
  /** ELB's buckets when `elbThrottling` is on (null: off). */
  readonly elbBuckets: { describe: TokenBucket; mutate: TokenBucket } | null;
  readonly registrations: Registration[];
  /** Resolves with the first registration (from now on) that matches. */
  waitForRegistration(match: (r: Registration) => boolean, timeoutMs: number): Promise<Registration>;
  close(): Promise<void>;
}

const ELB_NS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
const EC2_NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const RDS_NS = 'http://rds.amazonaws.com/doc/2014-10-31/';
const RDS_VERSION = '2014-10-31';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  const elbScale = options.elbScale ?? 0.001;
  const scaledTiming = scaleTiming(elbScale, AWS_ELB_TIMING);
  const elbModel = new ElbTimingModel({ now: () => performance.now(), timing: scaledTiming });
  const clusters = new Map<string, FakeMember[]>();
  const customEndpoints = new Map<string, FakeCustomEndpoint>();
  let targetGroups: FakeTargetGroup[] = [];
  const calls = new Map<string, number>();
  const throttledCalls = new Map<string, number>();
  const now = options.now ?? (() => performance.now());
  const specs = options.elbThrottling === true ? ELB_THROTTLING : options.elbThrottling || null;
  const elbBuckets = specs ? { describe: new TokenBucket(specs.describe, now), mutate: new TokenBucket(specs.mutate, now) } : null;
  const registrations: Registration[] = [];
  const waiters = new Set<(r: Registration) => void>();
  let requestId = 0;

  const targetsOf = (params: URLSearchParams): FakeTarget[] => {
    const out: FakeTarget[] = [];
    for (let i = 1; params.has(`Targets.member.${i}.Id`); i++) {
      const az = params.get(`Targets.member.${i}.AvailabilityZone`);
      out.push({
        ip: params.get(`Targets.member.${i}.Id`) ?? '',
        port: Number(params.get(`Targets.member.${i}.Port`)),
        ...(az ? { availabilityZone: az } : {}),
      });
    }
    return out;
  };
  const ref = (t: FakeTarget) => ({ ip: t.ip, port: t.port, ...(t.availabilityZone ? { availabilityZone: t.availabilityZone } : {}) });

  const elb = (action: string, params: URLSearchParams): string => {
    const arn = params.get('TargetGroupArn') ?? '';
    let result = '';
    switch (action) {
      case 'DescribeTargetHealth': {
        const members = elbModel.describe(arn).map(
          (t) =>
            `<member><Target><Id>${esc(t.ip)}</Id><Port>${t.port}</Port>${t.availabilityZone ? `<AvailabilityZone>${esc(t.availabilityZone)}</AvailabilityZone>` : ''}</Target>` +
            `<HealthCheckPort>${t.port}</HealthCheckPort><TargetHealth><State>${t.state}</State>${t.reason ? `<Reason>${t.reason}</Reason>` : ''}</TargetHealth></member>`,
        );
        result = `<TargetHealthDescriptions>${members.join('')}</TargetHealthDescriptions>`;
        break;
      }
      case 'RegisterTargets': {
        const targets = targetsOf(params);
        elbModel.register(arn, targets.map(ref));
        const registration = { targetGroupArn: arn, targets, at: performance.now() };
        registrations.push(registration);
        for (const notify of waiters) notify(registration);
        break;
      }
      case 'DescribeTargetGroups': {
        const pageSize = Number(params.get('PageSize') ?? 400);
        const from = Number(params.get('Marker') ?? 0);
        const page = targetGroups.slice(from, from + pageSize).map(
          (g) =>
            `<member><TargetGroupArn>${esc(g.arn)}</TargetGroupArn><TargetGroupName>${esc(g.name)}</TargetGroupName><Protocol>TCP</Protocol>` +
            `<Port>${g.port}</Port><TargetType>ip</TargetType><IpAddressType>ipv4</IpAddressType></member>`,
        );
        const next = from + pageSize < targetGroups.length ? `<NextMarker>${from + pageSize}</NextMarker>` : '';
        result = `<TargetGroups>${page.join('')}</TargetGroups>${next}`;
        break;
      }
      case 'DescribeTags': {
        const arns: string[] = [];
        for (let i = 1; params.has(`ResourceArns.member.${i}`); i++) arns.push(params.get(`ResourceArns.member.${i}`) ?? '');
        if (arns.length > DESCRIBE_TAGS_MAX_ARNS) throw new Error(`fake ELBv2: DescribeTags takes at most ${DESCRIBE_TAGS_MAX_ARNS} ARNs, got ${arns.length}`);
        const byArn = new Map(targetGroups.map((g) => [g.arn, g]));
        const members = arns.map((arn) => {
          const tags = Object.entries(byArn.get(arn)?.tags ?? {}).map(([k, v]) => `<member><Key>${esc(k)}</Key><Value>${esc(v)}</Value></member>`);
          return `<member><ResourceArn>${esc(arn)}</ResourceArn><Tags>${tags.join('')}</Tags></member>`;
        });
        result = `<TagDescriptions>${members.join('')}</TagDescriptions>`;
        break;
      }
      case 'DeregisterTargets':
        elbModel.deregister(arn, targetsOf(params).map(ref));
        break;
      default:
        throw new Error(`fake ELBv2: ${action} not implemented`);
    }
    return `<${action}Response xmlns="${ELB_NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>bench-${++requestId}</RequestId></ResponseMetadata></${action}Response>`;
  };

  const ec2 = (action: string, params: URLSearchParams): string => {
    let body = '';
    switch (action) {
      case 'DescribeVpcEndpointConnections': {
        const serviceIds = new Set<string>();
        for (let i = 1; params.has(`Filter.${i}.Name`); i++) {
          if (params.get(`Filter.${i}.Name`) === 'service-id') serviceIds.add(params.get(`Filter.${i}.Value.1`) ?? '');
        }
        const items = (options.pendingConnections ?? [])
          .filter((c) => serviceIds.size === 0 || serviceIds.has(c.serviceId))
          .map(
            (c) =>
              `<item><serviceId>${esc(c.serviceId)}</serviceId><vpcEndpointId>${esc(c.endpointId)}</vpcEndpointId>` +
              `<vpcEndpointOwner>${esc(c.owner)}</vpcEndpointOwner><vpcEndpointState>pendingAcceptance</vpcEndpointState></item>`,
          );
        body = `<vpcEndpointConnectionSet>${items.join('')}</vpcEndpointConnectionSet>`;
        break;
      }
      case 'AcceptVpcEndpointConnections':
      case 'RejectVpcEndpointConnections':
        body = '<unsuccessful/>';
        break;
      case 'DescribeVpcEndpointServiceConfigurations': {
        // This account's services: those the pending connections ask for (accept checks its
        // ENDPOINT_SERVICE_IDS against this list).
        const owned = [...new Set((options.pendingConnections ?? []).map((c) => c.serviceId))];
        body = `<serviceConfigurationSet>${owned.map((id) => `<item><serviceId>${esc(id)}</serviceId><serviceState>Available</serviceState></item>`).join('')}</serviceConfigurationSet>`;
        break;
      }
      default:
        throw new Error(`fake EC2: ${action} not implemented`);
    }
    return `<${action}Response xmlns="${EC2_NS}"><requestId>bench-${++requestId}</requestId>${body}</${action}Response>`;
  };

  const rds = (action: string, params: URLSearchParams): string => {
    // Filters.Filter.N.Name / .Values.Value.M, the identifier parameter as a filter of one value.
    const filters = new Map<string, Set<string>>();
    for (let f = 1; params.has(`Filters.Filter.${f}.Name`); f++) {
      const values = new Set<string>();
      for (let v = 1; params.has(`Filters.Filter.${f}.Values.Value.${v}`); v++) values.add(params.get(`Filters.Filter.${f}.Values.Value.${v}`) ?? '');
      if (values.size > RDS_FILTER_MAX_VALUES) throw new Error(`fake RDS: a filter takes at most ${RDS_FILTER_MAX_VALUES} values, got ${values.size}`);
      filters.set(params.get(`Filters.Filter.${f}.Name`) ?? '', values);
    }
    for (const [param, name] of [
      ['DBClusterIdentifier', 'db-cluster-id'],
      ['DBInstanceIdentifier', 'db-instance-id'],
      ['DBClusterEndpointIdentifier', 'db-cluster-endpoint-id'],
    ] as const) {
      const id = params.get(param);
      if (id) filters.set(name, new Set([id]));
    }
    const keep = (name: string, value: string) => filters.get(name)?.has(value) ?? true;
    // Pages of MaxRecords (default and most 100); Marker = the next index.
    const paged = (items: string[], list: string) => {
      const size = Math.min(Number(params.get('MaxRecords') ?? 100), 100);
      const from = Number(params.get('Marker') ?? 0);
      const next = from + size < items.length ? `<Marker>${from + size}</Marker>` : '';
      return `<${list}>${items.slice(from, from + size).join('')}</${list}>${next}`;
    };
    const list = (items: string[] = []) => items.map((i) => `<member>${esc(i)}</member>`).join('');
    let result = '';
    switch (action) {
      case 'DescribeDBClusters': {
        const found = [...clusters.entries()].filter(([id]) => keep('db-cluster-id', id));
        const items = found.map(([id, members]) => {
          const xml = members.map((m) => `<DBClusterMember><DBInstanceIdentifier>${esc(m.id)}</DBInstanceIdentifier><IsClusterWriter>${m.writer}</IsClusterWriter></DBClusterMember>`);
          return `<DBCluster><DBClusterIdentifier>${esc(id)}</DBClusterIdentifier><DBClusterMembers>${xml.join('')}</DBClusterMembers></DBCluster>`;
        });
        result = paged(items, 'DBClusters');
        break;
      }
      case 'DescribeDBInstances': {
        const items = [...clusters.entries()]
          .flatMap(([clusterId, members]) => members.map((m) => ({ ...m, clusterId })))
          .filter((m) => keep('db-instance-id', m.id) && keep('db-cluster-id', m.clusterId))
          .map(
            (m) =>
              `<DBInstance><DBInstanceIdentifier>${esc(m.id)}</DBInstanceIdentifier><DBClusterIdentifier>${esc(m.clusterId)}</DBClusterIdentifier>` +
              `<Endpoint><Address>${esc(m.address)}</Address><Port>5432</Port></Endpoint></DBInstance>`,
          );
        result = paged(items, 'DBInstances');
        break;
      }
      case 'DescribeDBClusterEndpoints': {
        const items = [...customEndpoints.entries()]
          .filter(([id]) => keep('db-cluster-endpoint-id', id))
          .map(
            ([id, e]) =>
              `<DBClusterEndpointList><DBClusterEndpointIdentifier>${esc(id)}</DBClusterEndpointIdentifier><DBClusterIdentifier>${esc(e.clusterId)}</DBClusterIdentifier>` +
              `<EndpointType>CUSTOM</EndpointType><CustomEndpointType>${e.type}</CustomEndpointType>` +
              `<StaticMembers>${list(e.staticMembers)}</StaticMembers><ExcludedMembers>${list(e.excludedMembers)}</ExcludedMembers></DBClusterEndpointList>`,
          );
        result = paged(items, 'DBClusterEndpoints');
        break;
      }
      default:
        throw new Error(`fake RDS: ${action} not implemented`);
    }
    return `<${action}Response xmlns="${RDS_NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>bench-${++requestId}</RequestId></ResponseMetadata></${action}Response>`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = req.headers['x-amz-target'];
    const params = new URLSearchParams(typeof target === 'string' ? '' : body);
    const action = typeof target === 'string' ? (target.split('.').pop() ?? target) : (params.get('Action') ?? 'unknown');
    const version = params.get('Version');
    const isElb = typeof target !== 'string' && version !== '2016-11-15' && version !== RDS_VERSION;
    // ELB's throttling: the request takes a token when it arrives; without one it is refused.
    const throttled = isElb && elbBuckets !== null && !elbBuckets[elbBucketOf(action)].take();
    const tally = throttled ? throttledCalls : calls;
    tally.set(action, (tally.get(action) ?? 0) + 1);
    if (fake.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.latencyMs));
    if (throttled) {
      // As ELB answers it (query protocol): the SDK's retry strategies treat `Throttling` as throttling.
      res.writeHead(400, { 'content-type': 'text/xml', 'x-amzn-requestid': `bench-${++requestId}` });
      res.end(
        `<ErrorResponse xmlns="${ELB_NS}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>bench-${requestId}</RequestId></ErrorResponse>`,
      );
      return;
    }
    try {
      if (typeof target === 'string') {
        if (!target.startsWith('GraniteServiceVersion20100801.')) throw new Error(`fake AWS: ${target} not implemented`);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `bench-${++requestId}` });
        res.end('{}'); // PutMetricData answers with an empty object
      } else {
        const xml = version === '2016-11-15' ? ec2(action, params) : version === RDS_VERSION ? rds(action, params) : elb(action, params);
        res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': `bench-${requestId}` });
        res.end(xml);
      }
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>NotImplemented</Code><Message>${esc(String(err))}</Message></Error><RequestId>x</RequestId></ErrorResponse>`);
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  const fake: FakeAws = {
    endpoint: `http://127.0.0.1:${port}`,
    latencyMs: options.latencyMs ?? 0,
    setCluster: (clusterId, members) => void clusters.set(clusterId, members),
    setCustomEndpoint: (endpointId, endpoint) => void customEndpoints.set(endpointId, endpoint),
    setTargetGroups: (groups) => void (targetGroups = [...groups]),
    setTargets: (arn, targets) => elbModel.seedHealthy(arn, targets.map(ref)),
    targets: (arn) => elbModel.describe(arn).map((t) => ({ ip: t.ip, port: t.port, ...(t.availabilityZone ? { availabilityZone: t.availabilityZone } : {}) })),
    elbTiming: { scale: elbScale, scaled: scaledTiming, unscaled: AWS_ELB_TIMING },
    targetHistory: (arn) => elbModel.history(arn),
    counts: () => Object.fromEntries([...calls.entries()].sort(([a], [b]) => a.localeCompare(b))),
    totalCalls: () => [...calls.values()].reduce((a, b) => a + b, 0),
    throttled: () => Object.fromEntries([...throttledCalls.entries()].sort(([a], [b]) => a.localeCompare(b))),
    resetCounts: () => {
      calls.clear();
      throttledCalls.clear();
    },
    elbBuckets,
    registrations,
    waitForRegistration: (match, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching RegisterTargets within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = (r: Registration) => {
          if (!match(r)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(r);
        };
        waiters.add(check);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return fake;
}
