// AWS's target timing for the local emulator: moto 5.2.1 makes a registered target `healthy` at
// once, drops a deregistered one at once and keys targets by IP alone. This is an ELBv2 front on
// 127.0.0.1 that answers RegisterTargets, DeregisterTargets and DescribeTargetHealth itself from
// the timing model (elb-timing.ts: registration, initial health checks, draining, on a real
// clock multiplied by `scale`) and proxies every other ELBv2 request to moto unchanged. The SDK
// reaches it through AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 (the client's serviceId is
// "Elastic Load Balancing v2"; emulatorEnv sets it), so the real handler and CLI run against it.
//
// Shapes: ELBv2 query protocol, Version 2015-12-01 (the SDK's awsQuery deserializer): Targets.
// member.N.{Id,Port,AvailabilityZone}; DescribeTargetHealth answers <TargetHealthDescriptions>
// <member><Target/><HealthCheckPort/><TargetHealth><State/><Reason/><Description/></TargetHealth>
// </member>; errors are <ErrorResponse><Error><Type>Sender</Type><Code/><Message/></Error>.
// The target group must exist in moto (DescribeTargetGroups, remembered per ARN until reset):
// otherwise TargetGroupNotFound. Modelled, not documented: the InvalidTarget message text.
// moto stays in step, so a test may still read or seed targets there: on first sight of a group
// the front adopts the targets moto holds as `healthy` (registered long ago), and it passes each
// RegisterTargets / DeregisterTargets on to moto after the model took it. ModifyListener goes to
// moto too; a change of the forward weights is recorded (weightHistory) with when new connections
// follow it per the model's weightPropagationMs.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  type TargetDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AWS_ELB_TIMING, ElbTimingModel, InvalidTargetError, scaleTiming, type ElbTiming, type ListenerWeights, type TargetHistory, type TargetRef, type WeightChange } from './elb-timing.js';
import { forward, listenOnLoopback, proxy, readBody, respond, send } from './endpoint-connections.js';
import { emulatorClientConfig } from './seed.js';

/** Tests' default: registration 180 s -> 360 ms, health checks 2 x 5 s -> 20 ms, draining 10 s -> 20 ms. */
export const TEST_ELB_SCALE = 0.002;

export interface ElbFrontOptions {
  /** Multiplies every duration of `timing`. Default TEST_ELB_SCALE. */
  readonly scale?: number;
  /** Unscaled terms. Default AWS_ELB_TIMING (180 s registration, serverless.yml's health checks). */
  readonly timing?: ElbTiming;
  /** Addresses that accept connections, "ip:port" or "ip" (any port); default: all. */
  readonly serving?: 'all' | Iterable<string>;
}

export interface ElbFront {
  /** Base URL for AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2. */
  readonly endpoint: string;
  readonly scale: number;
  /** The terms in force (scaled). */
  readonly timing: ElbTiming;
  /** The same terms unscaled, as AWS would take. */
  readonly unscaled: ElbTiming;
  /** Which addresses accept connections from now on: "ip:port" or "ip" (any port), or all. */
  setServing(addresses: 'all' | Iterable<string>): void;
  /** Every registration so far (epoch ms), oldest first; one target group or all. */
  history(targetGroupArn?: string): TargetHistory[];
  /**
   * Every ModifyListener that changed a listener's forward weights (epoch ms), oldest first, with
   * `effectiveAt` = changedAt + timing.weightPropagationMs (modelled: AWS documents no figure).
   */
  weightHistory(listenerArn?: string): WeightChange[];
  /** The weights new connections follow now per the model; undefined for a listener never changed. */
  effectiveWeights(listenerArn: string): ListenerWeights | undefined;
  /** Resolves once no target of the group is `initial` or `draining` (or rejects after timeoutMs). */
  settled(targetGroupArn: string, timeoutMs?: number): Promise<void>;
  /** How many requests each served action answered. */
  calls(action: string): number;
  /** Forget every target, its history and the known target groups (startEmulators calls it on moto.reset()). */
  reset(): void;
  close(): Promise<void>;
}

const NS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
const SERVED = new Set(['RegisterTargets', 'DeregisterTargets', 'DescribeTargetHealth']);

class QueryError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startElbFront(motoEndpoint: string, options: ElbFrontOptions = {}): Promise<ElbFront> {
  const scale = options.scale ?? TEST_ELB_SCALE;
  const unscaled = options.timing ?? AWS_ELB_TIMING;
  const timing = scaleTiming(scale, unscaled);
  const servingFrom = (addresses: 'all' | Iterable<string>) => {
    if (addresses === 'all') return () => true;
    const set = new Set(addresses);
    return (ip: string, port: number) => set.has(ip) || set.has(`${ip}:${port}`);
  };
  const model = new ElbTimingModel({ now: Date.now, timing, serving: servingFrom(options.serving ?? 'all') });
  const known = new Set<string>();
  const callCount = new Map<string, number>();
  const moto = new ElasticLoadBalancingV2Client({ ...emulatorClientConfig(motoEndpoint), maxAttempts: 1 });
  // Health checks happen on their own schedule, not only when someone reads.
  const ticker = setInterval(() => model.advance(), Math.max(timing.intervalMs, 10));
  ticker.unref();

  const checkGroup = async (arn: string | null): Promise<string> => {
    if (!arn) throw new QueryError('ValidationError', "1 validation error detected: Value null at 'targetGroupArn' failed to satisfy constraint: Member must not be null");
    if (known.has(arn)) return arn;
    const notFound = new QueryError('TargetGroupNotFound', 'One or more target groups not found');
    const { TargetGroups = [] } = await moto.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] })).catch((err: unknown) => {
      // moto's own answer for an unknown ARN; anything else (moto down) is a 500 with its message.
      throw (err as { name?: string }).name === 'TargetGroupNotFoundException' ? notFound : err;
    });
    if (!TargetGroups.some((g) => g.TargetGroupArn === arn)) throw notFound;
    // Targets registered in moto directly (a test's setup) count as registered long ago.
    const { TargetHealthDescriptions = [] } = await moto.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    model.seedHealthy(arn, TargetHealthDescriptions.flatMap(({ Target }) => (Target?.Id && Target.Port !== undefined ? [{ ip: Target.Id, port: Target.Port }] : [])));
    known.add(arn);
    return arn;
  };

  const answer = async (action: string, params: URLSearchParams): Promise<string> => {
    const arn = await checkGroup(params.get('TargetGroupArn'));
    const targets = targetsOf(params);
    switch (action) {
      case 'RegisterTargets':
        if (targets.length === 0) throw new QueryError('ValidationError', 'Targets must not be empty');
        model.register(arn, targets);
        await moto.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: targets.map(description) }));
        return '';
      case 'DeregisterTargets':
        if (targets.length === 0) throw new QueryError('ValidationError', 'Targets must not be empty');
        try {
          model.deregister(arn, targets);
        } catch (err) {
          if (err instanceof InvalidTargetError) throw new QueryError(err.code, err.message);
          throw err;
        }
        // moto keys targets by IP alone, so it may have dropped one of these already: the model
        // has answered; moto's InvalidTarget for a target it no longer holds changes nothing.
        await moto.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: targets.map(description) })).catch((err: unknown) => {
          if ((err as { name?: string }).name !== 'InvalidTargetException') throw err;
        });
        return '';
      default: {
        const members = model.describe(arn, targets).map(
          (t) =>
            `<member><Target><Id>${esc(t.ip)}</Id><Port>${t.port}</Port>${t.availabilityZone ? `<AvailabilityZone>${esc(t.availabilityZone)}</AvailabilityZone>` : ''}</Target>` +
            `<HealthCheckPort>${t.port}</HealthCheckPort><TargetHealth><State>${t.state}</State>` +
            `${t.reason ? `<Reason>${t.reason}</Reason>` : ''}${t.description ? `<Description>${esc(t.description)}</Description>` : ''}</TargetHealth></member>`,
        );
        return `<TargetHealthDescriptions>${members.join('')}</TargetHealthDescriptions>`;
      }
    }
  };

  // moto applies ModifyListener at once; the front records a weight change and, per the model,
  // when new connections follow it. Read before and after from moto: what it stored is what counts.
  const listenerWeights = async (arn: string): Promise<ListenerWeights | undefined> => {
    const out = await moto.send(new DescribeListenersCommand({ ListenerArns: [arn] })).catch(() => undefined);
    const action = out?.Listeners?.[0]?.DefaultActions?.find((a) => a.Type === 'forward');
    if (!action) return undefined;
    const groups = action.ForwardConfig?.TargetGroups ?? (action.TargetGroupArn ? [{ TargetGroupArn: action.TargetGroupArn, Weight: 1 }] : []);
    return Object.fromEntries(groups.map((g) => [g.TargetGroupArn ?? '', g.Weight ?? 1]));
  };
  const modifyListener = async (req: IncomingMessage, res: ServerResponse, body: Buffer, arn: string | null): Promise<void> => {
    callCount.set('ModifyListener', (callCount.get('ModifyListener') ?? 0) + 1);
    const before = arn ? await listenerWeights(arn) : undefined;
    const upstream = await forward(req, body, motoEndpoint);
    // Recorded before the answer, so a caller that awaited ModifyListener finds the change.
    const after = arn && upstream.status === 200 ? await listenerWeights(arn) : undefined;
    if (arn && after) model.listenerModified(arn, before ?? {}, after);
    respond(res, upstream);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const params = new URLSearchParams(req.method === 'POST' ? body.toString('utf8') : ((req.url ?? '').split('?')[1] ?? ''));
    const action = params.get('Action') ?? '';
    if (action === 'ModifyListener') return modifyListener(req, res, body, params.get('ListenerArn'));
    if (!SERVED.has(action)) return proxy(req, res, body, motoEndpoint);
    callCount.set(action, (callCount.get(action) ?? 0) + 1);
    const requestId = randomBytes(16).toString('hex');
    try {
      const result = await answer(action, params);
      send(res, 200, `<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`);
    } catch (err) {
      const { code, message } = err instanceof QueryError ? err : { code: 'InternalFailure', message: String(err) };
      send(res, err instanceof QueryError ? 400 : 500, `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
    }
  };

  const { server, port } = await listenOnLoopback(serve);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    scale,
    timing,
    unscaled,
    setServing: (addresses) => model.setServing(servingFrom(addresses)),
    history: (arn) => model.history(arn),
    weightHistory: (arn) => model.weightHistory(arn),
    effectiveWeights: (arn) => model.effectiveWeights(arn),
    settled: async (arn, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const pending = model.describe(arn).filter((t) => t.state === 'initial' || t.state === 'draining');
        if (pending.length === 0) return;
        if (Date.now() > deadline) throw new Error(`targets still ${pending.map((t) => `${t.ip}:${t.port} ${t.state}`).join(', ')} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, Math.max(timing.intervalMs, 5)));
      }
    },
    calls: (action) => callCount.get(action) ?? 0,
    reset: () => {
      model.reset();
      known.clear();
      callCount.clear();
    },
    close: async () => {
      clearInterval(ticker);
      moto.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

const description = (t: TargetRef): TargetDescription => ({ Id: t.ip, Port: t.port, ...(t.availabilityZone ? { AvailabilityZone: t.availabilityZone } : {}) });

function targetsOf(params: URLSearchParams): TargetRef[] {
  const out: TargetRef[] = [];
  for (let i = 1; params.has(`Targets.member.${i}.Id`); i++) {
    const az = params.get(`Targets.member.${i}.AvailabilityZone`);
    const port = params.get(`Targets.member.${i}.Port`);
    if (port === null) throw new QueryError('ValidationError', `Targets.member.${i}.Port: an IP target needs a port (the target group's port is not modelled)`);
    out.push({ ip: params.get(`Targets.member.${i}.Id`) ?? '', port: Number(port), ...(az ? { availabilityZone: az } : {}) });
  }
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

