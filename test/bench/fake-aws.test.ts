// The bench's fake AWS reports target health with AWS's timing (the shared model), scaled.
import {
  DeregisterTargetsCommand,
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAws, type FakeAws, type FakeTargetGroup } from '../../bench/fake-aws.js';
import { listTaggedTargetGroups } from '../../lib/aws/target-groups.js';
import { listMemberInstances, readMemberSets } from '../../lib/aws/rds.js';
import { parseRdsEndpoint } from '../../lib/rds-endpoint.js';
import { emulatorClientConfig, toHealthyMs } from '../harness/index.js';

const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/orders/1';

describe("bench's fake AWS: ELB target timing", () => {
  let aws: FakeAws;
  let elb: ElasticLoadBalancingV2Client;
  beforeAll(async () => {
    aws = await startFakeAws({ elbScale: 0.01 });
    elb = new ElasticLoadBalancingV2Client(emulatorClientConfig(aws.endpoint));
  });
  afterAll(async () => {
    elb?.destroy();
    await aws?.close();
  });
  const states = async () =>
    ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG }))).TargetHealthDescriptions ?? []).map((d) => [d.Target?.Id, d.TargetHealth?.State, d.TargetHealth?.Reason]);

  it('seeds healthy targets, registers new ones initial until the scaled registration and checks pass, and drains removed ones', async () => {
    aws.setTargets(TG, [{ ip: '10.0.1.23', port: 5432 }]);
    expect(await states()).toEqual([['10.0.1.23', 'healthy', undefined]]);

    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: TG, Targets: [{ Id: '10.0.2.47', Port: 5432 }] }));
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: TG, Targets: [{ Id: '10.0.1.23', Port: 5432 }] }));
    expect(await states()).toContainEqual(['10.0.2.47', 'initial', 'Elb.RegistrationInProgress']);

    await expect.poll(states, { timeout: 15_000, interval: 20 }).toEqual([['10.0.2.47', 'healthy', undefined]]);
    const [h] = aws.targetHistory(TG);
    expect((h?.firstHealthyAt ?? 0) - (h?.registeredAt ?? 0)).toBeCloseTo(toHealthyMs(aws.elbTiming.scaled), 5);
    expect(aws.elbTiming).toMatchObject({ scale: 0.01, unscaled: { registrationMs: 180_000 } });
  });
});

describe("bench's fake AWS: discovery's listing", () => {
  let aws: FakeAws;
  let elb: ElasticLoadBalancingV2Client;
  beforeAll(async () => {
    aws = await startFakeAws();
    elb = new ElasticLoadBalancingV2Client(emulatorClientConfig(aws.endpoint));
  });
  afterAll(async () => {
    elb?.destroy();
    await aws?.close();
  });
  const group = (i: number): FakeTargetGroup => ({
    arn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg-${i}/${i}`,
    name: `tg-${i}`,
    port: 5432,
    tags: i % 2 === 0 ? { 'rds-nlb-sync:endpoint': `db${i}.c0ffee.eu-west-1.rds.amazonaws.com` } : { team: 'x' },
  });

  it('lists 1,000 groups in pages of 400 and their tags 20 ARNs a call, as lib/aws/target-groups.ts reads them', async () => {
    aws.setTargetGroups(Array.from({ length: 1000 }, (_, i) => group(i)));
    aws.resetCounts();
    const found = await listTaggedTargetGroups(elb, ['rds-nlb-sync:endpoint']);
    expect(found).toHaveLength(500);
    expect(found[1]).toEqual({
      arn: group(2).arn,
      name: 'tg-2',
      targetType: 'ip',
      protocol: 'TCP',
      port: 5432,
      ipAddressType: 'ipv4',
      tags: { 'rds-nlb-sync:endpoint': 'db2.c0ffee.eu-west-1.rds.amazonaws.com' },
    });
    expect(aws.counts()).toEqual({ DescribeTargetGroups: 3, DescribeTags: 50 });
  });

  it('refuses DescribeTags with more than 20 ARNs, as AWS does', async () => {
    const ResourceArns = Array.from({ length: 21 }, (_, i) => group(i).arn);
    await expect(elb.send(new DescribeTagsCommand({ ResourceArns }))).rejects.toThrow(/at most 20 ARNs/);
  });
});

describe("bench's fake AWS: RDS member sets", () => {
  let aws: FakeAws;
  let rds: RDSClient;
  beforeAll(async () => {
    aws = await startFakeAws();
    rds = new RDSClient(emulatorClientConfig(aws.endpoint));
    for (let c = 0; c < 250; c++) {
      aws.setCluster(`db${c}`, [1, 2, 3].map((m) => ({ id: `db${c}-${m}`, writer: m === 1, address: `db${c}-${m}.c0ffee.eu-west-1.rds.amazonaws.com` })));
      aws.setCustomEndpoint(`db${c}-any`, { clusterId: `db${c}`, type: 'ANY', excludedMembers: [`db${c}-3`] });
    }
  });
  afterAll(async () => {
    rds?.destroy();
    await aws?.close();
  });
  const reader = (c: number) => parseRdsEndpoint(`db${c}.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com`);
  const custom = (c: number) => parseRdsEndpoint(`db${c}-any.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com`);

  it('answers the batched read with its filters: 250 clusters x (reader + custom) in 3 chunks a call and pages of 100', async () => {
    aws.resetCounts();
    const endpoints = Array.from({ length: 250 }, (_, c) => [reader(c), custom(c)]).flat();
    const primed = await readMemberSets(rds, endpoints);
    expect(primed.members(reader(249)).map((m) => m.id)).toEqual(['db249-2', 'db249-3']);
    expect(primed.members(custom(0))).toEqual([
      { id: 'db0-1', endpoint: 'db0-1.c0ffee.eu-west-1.rds.amazonaws.com' },
      { id: 'db0-2', endpoint: 'db0-2.c0ffee.eu-west-1.rds.amazonaws.com' },
    ]);
    // 100 + 100 + 50 values; instances: 300 + 300 + 150 in pages of 100 = 3 + 3 + 2 calls.
    expect(aws.counts()).toEqual({ DescribeDBClusterEndpoints: 3, DescribeDBClusters: 3, DescribeDBInstances: 8 });
  });

  it('answers the one-endpoint reads by identifier, as before', async () => {
    aws.resetCounts();
    expect((await listMemberInstances(rds, custom(7))).map((m) => m.id)).toEqual(['db7-1', 'db7-2']);
    expect(aws.counts()).toEqual({ DescribeDBClusterEndpoints: 1, DescribeDBClusters: 1, DescribeDBInstances: 1 });
  });

  it('refuses a filter of more than 100 values, as AWS does', async () => {
    const ids = Array.from({ length: 101 }, (_, c) => `db${c}`);
    await expect(rds.send(new DescribeDBClustersCommand({ Filters: [{ Name: 'db-cluster-id', Values: ids }] }))).rejects.toThrow(/at most 100 values, got 101/);
  });
});

describe("bench's fake AWS: ELB's API throttling (token buckets, ELB user guide)", () => {
  let aws: FakeAws;
  let elb: ElasticLoadBalancingV2Client;
  let clock = 0;
  beforeAll(async () => {
    aws = await startFakeAws({ elbThrottling: true, now: () => clock });
    // One attempt: what the fake answers, not what the SDK's retries make of it.
    elb = new ElasticLoadBalancingV2Client({ ...emulatorClientConfig(aws.endpoint), maxAttempts: 1 });
    aws.setTargets(TG, [{ ip: '10.0.1.23', port: 5432 }]);
  });
  afterAll(async () => {
    elb?.destroy();
    await aws?.close();
  });
  const describeHealth = () => elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG }));
  const describeMany = (n: number) => Promise.allSettled(Array.from({ length: n }, describeHealth));
  const fulfilled = (results: PromiseSettledResult<unknown>[]) => results.filter((r) => r.status === 'fulfilled').length;
  const rest = () => {
    clock += 10_000; // the buckets full again
    aws.resetCounts();
  };

  it('answers 40 Describe calls in one second and refuses the 41st as ELB does: HTTP 400, Throttling, Rate exceeded', async () => {
    rest();
    expect(fulfilled(await describeMany(40))).toBe(40);
    const refused = describeHealth();
    await expect(refused).rejects.toThrow('Rate exceeded');
    await expect(refused).rejects.toMatchObject({ name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    expect(aws.counts()).toEqual({ DescribeTargetHealth: 40 });
    expect(aws.throttled()).toEqual({ DescribeTargetHealth: 1 });
  });

  it('refills the Describe bucket at 10 tokens a second, never above 40', async () => {
    rest();
    expect(fulfilled(await describeMany(45))).toBe(40);
    clock += 1000;
    expect(fulfilled(await describeMany(15))).toBe(10);
    clock += 500;
    expect(fulfilled(await describeMany(15))).toBe(5);
    clock += 60_000;
    expect(aws.elbBuckets?.describe.level()).toBe(40);
    expect(fulfilled(await describeMany(45))).toBe(40);
    expect(aws.throttled()).toEqual({ DescribeTargetHealth: 5 + 5 + 10 + 5 });
  });

  it('charges every Describe action to the same bucket, and the mutating ones to their own', async () => {
    rest();
    aws.setTargetGroups([{ arn: TG, name: 'orders', port: 5432, tags: {} }]);
    expect(fulfilled(await describeMany(39))).toBe(39);
    await elb.send(new DescribeTagsCommand({ ResourceArns: [TG] }));
    await expect(describeHealth()).rejects.toThrow('Rate exceeded');
    // The Describe bucket is empty; registering and deregistering still go through.
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: TG, Targets: [{ Id: '10.0.2.47', Port: 5432 }] }));
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: TG, Targets: [{ Id: '10.0.2.47', Port: 5432 }] }));
    expect(aws.elbBuckets?.describe.level()).toBe(0);
    expect(aws.elbBuckets?.mutate.level()).toBe(38);
    expect(aws.throttled()).toEqual({ DescribeTargetHealth: 1 });
  });

  it('refuses a 41st mutating call in one second (the same figures, assumed), not charged to the Describe bucket', async () => {
    rest();
    const register = () => elb.send(new RegisterTargetsCommand({ TargetGroupArn: TG, Targets: [{ Id: '10.0.1.23', Port: 5432 }] }));
    const results = await Promise.allSettled(Array.from({ length: 41 }, register));
    expect(fulfilled(results)).toBe(40);
    expect(aws.throttled()).toEqual({ RegisterTargets: 1 });
    expect(aws.elbBuckets?.describe.level()).toBe(40);
  });

  it('is what the SDK retries as throttling: every attempt of a call that finds no token is sent', async () => {
    rest();
    await describeMany(40);
    const retrying = new ElasticLoadBalancingV2Client({ ...emulatorClientConfig(aws.endpoint), maxAttempts: 2 });
    try {
      await expect(retrying.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG }))).rejects.toMatchObject({ name: 'Throttling', $metadata: { attempts: 2 } });
    } finally {
      retrying.destroy();
    }
    expect(aws.throttled()).toEqual({ DescribeTargetHealth: 2 });
  });

  it('leaves RDS, EC2 and CloudWatch alone, and throttles nothing when off (the default)', async () => {
    rest();
    const rds = new RDSClient({ ...emulatorClientConfig(aws.endpoint), maxAttempts: 1 });
    try {
      await describeMany(40);
      await rds.send(new DescribeDBClustersCommand({}));
      expect(aws.throttled()).toEqual({});
    } finally {
      rds.destroy();
    }
    const plain = await startFakeAws();
    const client = new ElasticLoadBalancingV2Client({ ...emulatorClientConfig(plain.endpoint), maxAttempts: 1 });
    try {
      const results = await Promise.allSettled(Array.from({ length: 60 }, () => client.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG }))));
      expect(fulfilled(results)).toBe(60);
      expect([plain.throttled(), plain.elbBuckets]).toEqual([{}, null]);
    } finally {
      client.destroy();
      await plain.close();
    }
  });
});
