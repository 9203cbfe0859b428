// The warm pass's own time (lib/warm/run.ts), offline: every AWS call answered by
// aws-sdk-client-mock after 20 ms (as bench/fake-aws.ts charges), DNS by a 1 ms stub. Two cases:
// a failover to a candidate already in a slot (weights only) and to a writer in no slot (the
// cold path through a slot; ELB's registration time is not in it: it is modeled, not measured).
// `npm run bench` runs it (runWarmPassBench) and prints the warm failover row; alone:
// npx tsx bench/warm-pass.ts.
import {
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  RegisterTargetsCommand,
  type DeregisterTargetsCommandInput,
  type DescribeTargetHealthCommandInput,
  type ModifyListenerCommandInput,
  type RegisterTargetsCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { pathToFileURL } from 'node:url';
import { mockClient } from 'aws-sdk-client-mock';
import { runWarm } from '../lib/warm/run.js';
import { AWS_ELB_TIMING } from '../test/harness/elb-timing.js';

process.env.AWS_REGION ??= 'eu-west-1';
const CALL_MS = 20;
const TRIALS = 15;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const rdsMock = mockClient(RDSClient);
const SLOTS = [1, 2, 3].map((n) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/slot${n}/${String(n).repeat(16)}`);
const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/bench/0123456789abcdef/0123456789abcdef';
const WRITER = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const IPS: Record<string, string> = { o1: '10.0.0.1', o2: '10.0.0.2', o3: '10.0.0.3', o4: '10.0.0.4' };
const slotOf = (arn: string | undefined) => SLOTS.indexOf(arn ?? '');

async function trial(writer: string): Promise<{ ms: number; weightsChangedMs?: number; calls: number; reason: string }> {
  elbMock.reset();
  rdsMock.reset();
  let weights = [1, 0, 0];
  const held = [['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']];
  let calls = 0;
  let weightsChangedAt: number | undefined;
  const call = async <T>(answer: () => T): Promise<T> => {
    calls++;
    await wait(CALL_MS);
    return answer();
  };
  elbMock.on(DescribeTargetHealthCommand).callsFake((i: DescribeTargetHealthCommandInput) =>
    call(() => ({ TargetHealthDescriptions: (held[slotOf(i.TargetGroupArn)] ?? []).map((ip) => ({ Target: { Id: ip, Port: 5432 }, TargetHealth: { State: 'healthy' } })) })),
  );
  elbMock.on(DescribeListenersCommand).callsFake(() =>
    call(() => ({ Listeners: [{ ListenerArn: LISTENER, DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: SLOTS.map((arn, i) => ({ TargetGroupArn: arn, Weight: weights[i] })) } }] }] })),
  );
  elbMock.on(ModifyListenerCommand).callsFake((i: ModifyListenerCommandInput) =>
    call(() => {
      weights = (i.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? []).map((g) => g.Weight ?? 0);
      weightsChangedAt = performance.now();
      return {};
    }),
  );
  elbMock.on(RegisterTargetsCommand).callsFake((i: RegisterTargetsCommandInput) =>
    call(() => {
      held[slotOf(i.TargetGroupArn)]?.push(...(i.Targets ?? []).map((t) => t.Id ?? ''));
      return {};
    }),
  );
  elbMock.on(DeregisterTargetsCommand).callsFake((i: DeregisterTargetsCommandInput) =>
    call(() => {
      const n = slotOf(i.TargetGroupArn);
      held[n] = (held[n] ?? []).filter((ip) => !(i.Targets ?? []).some((t) => t.Id === ip));
      return {};
    }),
  );
  rdsMock.on(DescribeDBClustersCommand).callsFake(() =>
    call(() => ({ DBClusters: [{ DBClusterMembers: Object.keys(IPS).map((id) => ({ DBInstanceIdentifier: id, IsClusterWriter: id === writer, PromotionTier: 1 })) }] })),
  );
  rdsMock.on(DescribeDBInstancesCommand).callsFake(() => call(() => ({ DBInstances: Object.keys(IPS).map((id) => ({ DBInstanceIdentifier: id, Endpoint: { Address: `${id}.c0ffee.eu-west-1.rds.amazonaws.com` } })) })));
  const resolve = async (name: string) => {
    await wait(1);
    return [name === WRITER ? (IPS[writer] ?? '') : (IPS[name.split('.')[0] ?? ''] ?? '')];
  };
  const started = performance.now();
  const pass = await runWarm(
    { endpoint: WRITER, targetGroupArn: SLOTS[0] ?? '', port: 5432, ipAddressType: 'ipv4' },
    { listenerArn: LISTENER, slotArns: SLOTS },
    { dryRun: false, watch: false, stillOpen: () => undefined },
    { elb: new ElasticLoadBalancingV2Client({}), rds: new RDSClient({}), resolve },
  );
  const ended = performance.now();
  return { ms: ended - started, ...(weightsChangedAt === undefined ? {} : { weightsChangedMs: weightsChangedAt - started }), calls, reason: pass.summary.reason };
}

export interface WarmCaseResult {
  readonly label: string;
  /** The pass's reason for the first trial (all trials take the same path). */
  readonly reason: string;
  readonly awsCalls: number;
  /** Pass start -> ModifyListener answered (the weights changed), ms; absent if the pass wrote none. */
  readonly weightsChangedMs?: { readonly median: number; readonly max: number };
  /** The whole pass, including the read-back, ms. */
  readonly passMs: { readonly median: number; readonly max: number };
}

export interface WarmPassResult {
  readonly trials: number;
  readonly awsLatencyMs: number;
  /** Modelled, not measured: AWS documents no figure (test/harness/elb-timing.ts). */
  readonly weightPropagationMs: number;
  readonly cases: WarmCaseResult[];
}

const mid = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { median: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0), max: Math.round(sorted.at(-1) ?? 0) };
};

/** Both cases, `trials` passes each, one after another. */
export async function runWarmPassBench(trials = TRIALS): Promise<WarmPassResult> {
  const cases: WarmCaseResult[] = [];
  for (const [label, writer] of [['candidate in a slot', 'o2'], ['writer in no slot', 'o4']] as const) {
    const runs = [];
    for (let i = 0; i < trials; i++) runs.push(await trial(writer));
    const changed = runs.flatMap((r) => (r.weightsChangedMs === undefined ? [] : [r.weightsChangedMs]));
    cases.push({
      label,
      reason: runs[0]?.reason ?? '',
      awsCalls: runs[0]?.calls ?? 0,
      ...(changed.length === runs.length ? { weightsChangedMs: mid(changed) } : {}),
      passMs: mid(runs.map((r) => r.ms)),
    });
  }
  elbMock.restore();
  rdsMock.restore();
  return { trials, awsLatencyMs: CALL_MS, weightPropagationMs: AWS_ELB_TIMING.weightPropagationMs, cases };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runWarmPassBench();
  for (const c of result.cases) {
    const changed = c.weightsChangedMs ? `weights changed median ${c.weightsChangedMs.median} ms, max ${c.weightsChangedMs.max} ms; ` : '';
    console.log(`${c.label}: ${c.reason}, ${c.awsCalls} AWS calls, ${changed}pass median ${c.passMs.median} ms, max ${c.passMs.max} ms (${result.awsLatencyMs} ms per call, ${result.trials} trials)`);
  }
}
