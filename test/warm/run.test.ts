// The warm pass with aws-sdk-client-mock: the exact ELB and RDS commands, in order, for a
// failover (one ModifyListener, no registration), the cold path, a dry run, a watch that waits,
// and a slot weighted by another run between our read and our deregistration.
import {
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  RegisterTargetsCommand,
  type Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Mapping } from '../../lib/config.js';
import { runWarm, syncWarmMapping, WarmStandbyError } from '../../lib/warm/run.js';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const rdsMock = mockClient(RDSClient);
const elb = new ElasticLoadBalancingV2Client({});
const rds = new RDSClient({});

const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/rds-nlb/0123456789abcdef/fedcba9876543210';
const S = [1, 2, 3].map((n) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/slot${n}/${String(n).repeat(16)}`);
const WRITER = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const host = (id: string) => `${id}.c0ffee.eu-west-1.rds.amazonaws.com`;
const IP: Record<string, string> = { [WRITER]: '10.0.0.1', [host('o1')]: '10.0.0.1', [host('o2')]: '10.0.0.2', [host('o3')]: '10.0.0.3', [host('o4')]: '10.0.0.4' };
const mapping: Mapping = { endpoint: WRITER, targetGroupArn: S[0] ?? '', port: 5432, ipAddressType: 'ipv4' };
const warm = { listenerArn: LISTENER, slotArns: S };

const forward = (...weights: number[]): Action => ({ Type: 'forward', ForwardConfig: { TargetGroups: S.map((arn, i) => ({ TargetGroupArn: arn, Weight: weights[i] ?? 0 })) } });
function listener(...weights: number[][]) {
  const chain = elbMock.on(DescribeListenersCommand);
  for (const w of weights) chain.resolvesOnce({ Listeners: [{ ListenerArn: LISTENER, DefaultActions: [forward(...w)] }] });
  const last = weights[weights.length - 1] ?? [];
  chain.resolves({ Listeners: [{ ListenerArn: LISTENER, DefaultActions: [forward(...last)] }] });
}
function slots(...held: string[][]) {
  held.forEach((ips, i) =>
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: S[i] }).resolves({
      TargetHealthDescriptions: ips.map((ip) => ({ Target: { Id: ip, Port: 5432 }, TargetHealth: { State: 'healthy' } })),
    }),
  );
}
function cluster(writer: string) {
  rdsMock.on(DescribeDBClustersCommand).resolves({
    DBClusters: [{ DBClusterMembers: ['o1', 'o2', 'o3', 'o4'].map((id) => ({ DBInstanceIdentifier: id, IsClusterWriter: id === writer, PromotionTier: 1 })) }],
  });
  rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: ['o1', 'o2', 'o3', 'o4'].map((id) => ({ DBInstanceIdentifier: id, DBInstanceClass: 'db.r6g.large', Endpoint: { Address: host(id) } })) });
}
let dnsWriter = '10.0.0.1';
const resolve = async (name: string) => {
  if (name === WRITER) return [dnsWriter];
  const ip = IP[name];
  if (!ip) throw new Error(`no answer for ${name}`);
  return [ip];
};
const deps = () => ({ elb, rds, resolve });
const open = { dryRun: false, watch: false, stillOpen: () => undefined };
const sent = () => elbMock.calls().map((c) => c.args[0].constructor.name.replace('Command', ''));

beforeEach(() => {
  elbMock.reset();
  rdsMock.reset();
  dnsWriter = '10.0.0.1';
});

describe('runWarm', () => {
  it('follows a failover with exactly one ModifyListener and no RegisterTargets', async () => {
    slots(['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']);
    listener([1, 0, 0], [0, 1, 0]); // the read, then the read-back
    cluster('o2');
    elbMock.on(ModifyListenerCommand).resolves({});
    dnsWriter = '10.0.0.2';

    const pass = await runWarm(mapping, warm, open, deps());

    expect(pass.summary).toMatchObject({ reason: 'weights-changed', weightsChanged: true, weightedSlot: S[1], registered: [], deregistered: [] });
    expect(elbMock).toHaveReceivedCommandTimes(ModifyListenerCommand, 1);
    expect(elbMock).toHaveReceivedCommandWith(ModifyListenerCommand, {
      ListenerArn: LISTENER,
      DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: S.map((arn, i) => ({ TargetGroupArn: arn, Weight: i === 1 ? 1 : 0 })) } }],
    });
    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    // Reads (in parallel), then the write, then the read-back.
    expect(sent().slice(-2)).toEqual(['ModifyListener', 'DescribeListeners']);
    expect(rdsMock.calls()).toHaveLength(2);
    // The timeline facts: the weight change stands for "registered"; the candidate was healthy already.
    expect(pass.summary.failover).toMatchObject({ newAddresses: ['10.0.0.2'], oldAddresses: ['10.0.0.1'], end: 'settled', reads: 1 });
    expect(pass.summary.failover?.healthyAt).toBe(pass.summary.failover?.registeredAt);
  });

  it('cold path: registers the writer into a slot, deregisters its old address, then weights it from a fresh read', async () => {
    slots(['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']);
    listener([1, 0, 0]);
    cluster('o4');
    dnsWriter = '10.0.0.4';
    elbMock.on(RegisterTargetsCommand).callsFake(() => {
      // After registration ELB lists the writer in slot 3 (initial); the read-back shows slot 3 weighted.
      elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: S[2] }).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.0.4', Port: 5432 }, TargetHealth: { State: 'initial' } }] });
      return {};
    });
    elbMock.on(ModifyListenerCommand).callsFake(() => {
      elbMock.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: LISTENER, DefaultActions: [forward(0, 0, 1)] }] });
      return {};
    });

    const pass = await runWarm(mapping, warm, open, deps());

    expect(pass.summary).toMatchObject({ reason: 'cold', cold: true, weightsChanged: true, weightedSlot: S[2] });
    expect(pass.summary.registered).toEqual([{ targetGroupArn: S[2], ip: '10.0.0.4' }]);
    expect(pass.summary.deregistered).toEqual([{ targetGroupArn: S[2], ip: '10.0.0.3' }]);
    const writes = sent().filter((c) => !c.startsWith('Describe'));
    expect(writes).toEqual(['RegisterTargets', 'DeregisterTargets', 'ModifyListener']);
    expect(elbMock).toHaveReceivedCommandWith(RegisterTargetsCommand, { TargetGroupArn: S[2], Targets: [{ Id: '10.0.0.4', Port: 5432 }] });
  });

  it('does not deregister from a slot another run weighted since our read', async () => {
    // o3 left the cluster: slot 3 gets o4, but another run weighted slot 3 in the meantime.
    slots(['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']);
    listener([1, 0, 0], [0, 0, 1]);
    rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ DBClusterMembers: ['o1', 'o2', 'o4'].map((id) => ({ DBInstanceIdentifier: id, IsClusterWriter: id === 'o1' })) }] });
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: ['o1', 'o2', 'o4'].map((id) => ({ DBInstanceIdentifier: id, Endpoint: { Address: host(id) } })) });
    elbMock.on(RegisterTargetsCommand).resolves({});

    const pass = await runWarm(mapping, warm, open, deps());

    expect(pass.summary.registered).toEqual([{ targetGroupArn: S[2], ip: '10.0.0.4' }]);
    expect(pass.summary.deregistered).toEqual([]);
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
  });

  it('writes nothing in a dry run', async () => {
    slots(['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']);
    listener([1, 0, 0]);
    cluster('o2');
    dnsWriter = '10.0.0.2';
    const pass = await runWarm(mapping, warm, { ...open, dryRun: true }, deps());
    expect(pass.summary.reason).toBe('weights-changed');
    expect(sent().every((c) => c.startsWith('Describe'))).toBe(true);
  });

  it('waits while watching and DNS still names the weighted slot, changing nothing', async () => {
    slots(['10.0.0.1'], [], []);
    listener([1, 0, 0]);
    cluster('o2'); // RDS already says o2; DNS not yet
    const pass = await runWarm(mapping, warm, { ...open, watch: true }, deps());
    expect(pass.waiting).toBe(true);
    expect(sent().every((c) => c.startsWith('Describe'))).toBe(true);
  });

  it('refuses a listener someone else changed, writing nothing', async () => {
    slots(['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']);
    elbMock.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: LISTENER, DefaultActions: [{ Type: 'forward', TargetGroupArn: S[0] }] }] });
    cluster('o2');
    dnsWriter = '10.0.0.2';
    await expect(runWarm(mapping, warm, open, deps())).rejects.toThrow(WarmStandbyError);
    expect(sent().every((c) => c.startsWith('Describe'))).toBe(true);
  });

  it('changes nothing when the RDS API fails, and says the members are unknown', async () => {
    slots(['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']);
    listener([1, 0, 0]);
    rdsMock.on(DescribeDBClustersCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    dnsWriter = '10.0.0.2';
    const result = await syncWarmMapping(mapping, warm, { dryRun: false, watch: false }, deps());
    expect(result).toMatchObject({ reason: 'members-unknown', waiting: false, error: { name: 'RdsApiError' } });
    expect(sent().every((c) => c.startsWith('Describe'))).toBe(true);
  });

  it('stops before writing once the pass was given up at the deadline', async () => {
    slots(['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']);
    listener([1, 0, 0]);
    cluster('o2');
    dnsWriter = '10.0.0.2';
    const result = await syncWarmMapping(mapping, warm, { dryRun: false, watch: false, gate: { open: false } }, deps());
    expect(result).toMatchObject({ reason: 'error', error: { message: expect.stringMatching(/deadline/) } });
    expect(elbMock).toHaveReceivedCommandTimes(ModifyListenerCommand, 0);
  });

  it('reports the serving slot for the metrics: its targets and health after a failover', async () => {
    slots(['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']);
    listener([1, 0, 0], [0, 1, 0]);
    cluster('o2');
    elbMock.on(ModifyListenerCommand).resolves({});
    dnsWriter = '10.0.0.2';
    const result = await syncWarmMapping(mapping, warm, { dryRun: false, watch: false }, deps());
    expect(result).toMatchObject({ reason: 'address-changed', resolved: ['10.0.0.2'], registered: ['10.0.0.2'], healthy: 1, added: [], removed: [], waiting: false });
  });

  it('keeps the weighted slot\'s health when DNS fails, and publishes nothing it could not read', async () => {
    slots(['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']);
    listener([1, 0, 0]);
    cluster('o1');
    const failing = { elb, rds, resolve: async () => Promise.reject(Object.assign(new Error('queryA ESERVFAIL'), { code: 'ESERVFAIL' })) };
    expect(await syncWarmMapping(mapping, warm, { dryRun: false, watch: false }, failing)).toMatchObject({ reason: 'dns-failed', registered: ['10.0.0.1'], healthy: 1 });

    elbMock.on(DescribeTargetHealthCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    const unread = await syncWarmMapping(mapping, warm, { dryRun: false, watch: false }, deps());
    expect(unread).toMatchObject({ reason: 'error', error: { name: 'AccessDenied' } });
    expect(unread.registered).toBeUndefined();
    expect(unread.healthy).toBeUndefined();
  });
});
