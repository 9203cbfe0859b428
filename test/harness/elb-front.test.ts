// The ELBv2 front with the real SDK client: AWS's target timing over moto's target groups.
import {
  DeregisterTargetsCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { emulatorClientConfig, emulatorEnv, motoOrSkip, readTargets, seedAws, startElbFront, startEmulators, TEST_ELB_SCALE, toHealthyMs, type ElbFront, type Emulators, type SeededAws } from './index.js';

describe.skipIf(!motoOrSkip())('ELBv2 front with AWS target timing', () => {
  let emulators: Emulators;
  let elb: ElasticLoadBalancingV2Client;
  // A front at x0.1 (registration 18 s, draining 1 s): states a loaded machine cannot race past.
  let slow: ElbFront;
  let slowClient: ElasticLoadBalancingV2Client;
  const tg = () => aws.targetGroupArns[0] ?? '';
  const health = async (Targets?: { Id: string; Port: number }[]) =>
    (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg(), ...(Targets ? { Targets } : {}) }))).TargetHealthDescriptions ?? [];

  beforeAll(async () => {
    emulators = await startEmulators();
    elb = new ElasticLoadBalancingV2Client({ ...emulatorClientConfig(emulators.elb.endpoint), maxAttempts: 1 });
    slow = await startElbFront(emulators.moto.endpoint, { scale: 0.1 });
    slowClient = new ElasticLoadBalancingV2Client({ ...emulatorClientConfig(slow.endpoint), maxAttempts: 1 });
  });
  afterAll(async () => {
    elb?.destroy();
    slowClient?.destroy();
    await slow?.close();
    await emulators?.stop();
  });
  let aws: SeededAws;
  beforeEach(async () => {
    await emulators.moto.reset(); // also resets emulators.elb
    slow.reset();
    aws = await seedAws(emulators.moto.endpoint);
    emulators.elb.setServing('all');
  });

  it('is what emulatorEnv points the SDK at, with the test scale by default', () => {
    expect(emulatorEnv(emulators).AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2).toBe(emulators.elb.endpoint);
    expect(emulators.elb.scale).toBe(TEST_ELB_SCALE);
    expect(emulators.elb.timing.registrationMs).toBeCloseTo(180_000 * TEST_ELB_SCALE);
    expect(emulators.elb.unscaled.registrationMs).toBe(180_000);
  });

  it('answers initial with ELB reason and description right after RegisterTargets', async () => {
    await slowClient.send(new RegisterTargetsCommand({ TargetGroupArn: tg(), Targets: [{ Id: '10.0.1.5', Port: 5432 }] }));

    const { TargetHealthDescriptions } = await slowClient.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg() }));
    expect(TargetHealthDescriptions).toEqual([
      {
        Target: { Id: '10.0.1.5', Port: 5432 },
        HealthCheckPort: '5432',
        TargetHealth: { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' },
      },
    ]);
  });

  it('answers healthy once registered and checked, no sooner than the modelled terms', async () => {
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg(), Targets: [{ Id: '10.0.1.5', Port: 5432 }] }));
    await emulators.elb.settled(tg());

    expect((await health())[0]?.TargetHealth).toEqual({ State: 'healthy' });
    const [h] = emulators.elb.history(tg());
    expect((h?.firstHealthyAt ?? 0) - (h?.registeredAt ?? 0)).toBeCloseTo(toHealthyMs(emulators.elb.timing), 3);
  });

  it('reports an address that does not serve unhealthy, with Target.FailedHealthChecks', async () => {
    emulators.elb.setServing(['10.0.1.5:5432']);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg(), Targets: [{ Id: '10.0.2.9', Port: 5432 }] }));
    await emulators.elb.settled(tg());

    expect((await health())[0]?.TargetHealth).toEqual({ State: 'unhealthy', Reason: 'Target.FailedHealthChecks', Description: 'Health checks failed' });
  });

  it('drains a deregistered target, then it is gone', async () => {
    await slowClient.send(new RegisterTargetsCommand({ TargetGroupArn: tg(), Targets: [{ Id: '10.0.1.5', Port: 5432 }] }));
    await slowClient.send(new DeregisterTargetsCommand({ TargetGroupArn: tg(), Targets: [{ Id: '10.0.1.5', Port: 5432 }] }));

    const { TargetHealthDescriptions = [] } = await slowClient.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg() }));
    expect(TargetHealthDescriptions[0]?.TargetHealth).toMatchObject({ State: 'draining', Reason: 'Target.DeregistrationInProgress' });
    await slow.settled(tg());
    expect(await readTargets(slow.endpoint, tg())).toEqual([]);
    const [h] = slow.history(tg());
    expect((h?.goneAt ?? 0) - (h?.deregisteredAt ?? 0)).toBeCloseTo(1000, 3);
  });

  it('adopts targets registered in moto directly as healthy, and keeps moto in step', async () => {
    const direct = new ElasticLoadBalancingV2Client(emulatorClientConfig(emulators.moto.endpoint));
    await direct.send(new RegisterTargetsCommand({ TargetGroupArn: tg(), Targets: [{ Id: '10.0.1.5', Port: 5432 }] }));
    direct.destroy();

    expect((await health()).map((d) => [d.Target?.Id, d.TargetHealth?.State])).toEqual([['10.0.1.5', 'healthy']]);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg(), Targets: [{ Id: '10.0.2.9', Port: 5432 }] }));
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tg(), Targets: [{ Id: '10.0.1.5', Port: 5432 }] }));
    expect((await readTargets(emulators.moto.endpoint, tg())).map((t) => t.ip)).toEqual(['10.0.2.9']);
  });

  it('answers InvalidTarget for deregistering a target the group does not hold', async () => {
    await expect(elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tg(), Targets: [{ Id: '10.0.9.9', Port: 5432 }] }))).rejects.toMatchObject({
      name: 'InvalidTargetException',
      message: "The following targets are not registered in the target group: '10.0.9.9:5432'",
    });
  });

  it('describes a named target the group does not hold as unused', async () => {
    expect((await health([{ Id: '10.0.9.9', Port: 5432 }]))[0]?.TargetHealth).toMatchObject({ State: 'unused', Reason: 'Target.NotRegistered' });
  });

  it('answers TargetGroupNotFound for a target group moto does not have', async () => {
    const missing = tg().replace(/\/[0-9a-f]+$/, '/0000000000000000');
    await expect(elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: missing }))).rejects.toMatchObject({ name: 'TargetGroupNotFoundException' });
  });

  it('proxies every other ELBv2 action to moto', async () => {
    const { TargetGroups = [] } = await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg()] }));
    expect(TargetGroups.map((g) => g.TargetGroupName)).toEqual(['rds-writer']);
    expect(emulators.elb.calls('DescribeTargetGroups')).toBe(0);
  });

  it('records a ModifyListener that changed the forward weights, effective after weightPropagationMs (scaled), and not one that changed nothing', async () => {
    const { Listeners = [] } = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: aws.loadBalancerArn }));
    const listenerArn = Listeners[0]?.ListenerArn ?? '';
    const { TargetGroups = [] } = await elb.send(new CreateTargetGroupCommand({ Name: 'slot2', TargetType: 'ip', Protocol: 'TCP', Port: 5432, VpcId: aws.vpcId }));
    const slot2 = TargetGroups[0]?.TargetGroupArn ?? '';
    const write = (w1: number, w2: number) =>
      elb.send(
        new ModifyListenerCommand({
          ListenerArn: listenerArn,
          DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: tg(), Weight: w1 }, { TargetGroupArn: slot2, Weight: w2 }] } }],
        }),
      );
    await write(1, 0); // seeded as forward to tg() alone (weight 1): slot2 added at 0 changes nothing
    expect(emulators.elb.weightHistory(listenerArn)).toEqual([]);

    const before = Date.now();
    await write(0, 1);
    const [change, ...more] = emulators.elb.weightHistory(listenerArn);
    expect(more).toEqual([]);
    expect(change).toMatchObject({ listenerArn, from: { [tg()]: 1, [slot2]: 0 }, to: { [tg()]: 0, [slot2]: 1 } });
    expect(change?.changedAt).toBeGreaterThanOrEqual(before);
    expect((change?.effectiveAt ?? 0) - (change?.changedAt ?? 0)).toBeCloseTo(emulators.elb.unscaled.weightPropagationMs * TEST_ELB_SCALE);
    expect(emulators.elb.calls('ModifyListener')).toBe(2);
  });
});
