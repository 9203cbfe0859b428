// The bench's fake AWS reports target health with AWS's timing (the shared model), scaled.
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAws, type FakeAws } from '../../bench/fake-aws.js';
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
