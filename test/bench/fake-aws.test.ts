// The bench's fake AWS reports target health with AWS's timing (the shared model), scaled.
import {
  DeregisterTargetsCommand,
  DescribeTagsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAws, type FakeAws, type FakeTargetGroup } from '../../bench/fake-aws.js';
import { listTaggedTargetGroups } from '../../lib/aws/target-groups.js';
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
