// `rds-nlb-sync doctor --removal --stage <stage>` against the emulators: moto (load balancers,
// security groups and their rules, endpoint services, tags) and the endpoint connections front
// (connections and connection notifications, which moto lacks). A stack's PrivateLink side is
// built the way CloudFormation leaves it (the aws:cloudformation:stack-name tag on the NLB), then
// held on to in each way that makes `serverless remove` end in DELETE_FAILED.
// moto gaps: no endpoint connections or connection notifications (the front serves them), and
// DescribeSecurityGroupRules without the rules' descriptions (doctor reads them from the groups too).
import {
  AcceptVpcEndpointConnectionsCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointServiceConfigurationCommand,
  EC2Client,
  RejectVpcEndpointConnectionsCommand,
} from '@aws-sdk/client-ec2';
import { CreateLoadBalancerCommand, ElasticLoadBalancingV2Client, ModifyLoadBalancerAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, type CliIo } from '../../cli/main.js';
import type { CheckResult } from '../../lib/doctor/run.js';
import { STACK_DB_RULE_DESCRIPTION } from '../../lib/doctor/removal.js';
import { emulatorClientConfig, emulatorEnv, motoOrSkip, startEmulators, type Emulators } from '../harness/index.js';

const STAGE = 'prod';
const STACK = `rds-nlb-sync-${STAGE}`;
const FIVETRAN = '834469178297';

describe.skipIf(!motoOrSkip())('doctor --removal against the emulators', () => {
  let emulators: Emulators;
  let ec2: EC2Client;
  let elb: ElasticLoadBalancingV2Client;
  let stack: { vpcId: string; nlbGroupId: string; loadBalancerArn: string; serviceId: string };

  beforeAll(async () => {
    emulators = await startEmulators();
    ec2 = new EC2Client(emulatorClientConfig(emulators.moto.endpoint));
    elb = new ElasticLoadBalancingV2Client(emulatorClientConfig(emulators.moto.endpoint));
  });
  afterAll(async () => {
    ec2?.destroy();
    elb?.destroy();
    await emulators?.stop();
  });
  beforeEach(async () => {
    await emulators.moto.reset();
    emulators.connections.reset();
    for (const [key, value] of Object.entries(emulatorEnv(emulators))) vi.stubEnv(key, value);
    stack = await createStackPrivateLink();
  });
  afterEach(() => vi.unstubAllEnvs());

  /** What createPrivateLink makes: the NLB in its own group, tagged by CloudFormation, and the endpoint service with the stack's notification. */
  async function createStackPrivateLink() {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
    const vpcId = Vpc?.VpcId ?? '';
    const { Subnet } = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'eu-west-1a' }));
    const { GroupId: nlbGroupId = '' } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'nlb', Description: 'rds-nlb-sync NLB', VpcId: vpcId }));
    const { LoadBalancers = [] } = await elb.send(
      new CreateLoadBalancerCommand({
        Name: 'rds-nlb-prod',
        Type: 'network',
        Scheme: 'internal',
        Subnets: [Subnet?.SubnetId ?? ''],
        SecurityGroups: [nlbGroupId],
        Tags: [{ Key: 'aws:cloudformation:stack-name', Value: STACK }],
      }),
    );
    const loadBalancerArn = LoadBalancers[0]?.LoadBalancerArn ?? '';
    const { ServiceConfiguration } = await ec2.send(new CreateVpcEndpointServiceConfigurationCommand({ NetworkLoadBalancerArns: [loadBalancerArn], AcceptanceRequired: true }));
    const serviceId = ServiceConfiguration?.ServiceId ?? '';
    emulators.connections.createConnectionNotification({ serviceId, topicArn: `arn:aws:sns:eu-west-1:123456789012:${STACK}-connections` });
    // The stack's own rule in the database's group (DbIngressFromNlb): removed with the stack.
    const dbGroupId = await group('db', vpcId);
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: dbGroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: nlbGroupId, Description: STACK_DB_RULE_DESCRIPTION }] }],
      }),
    );
    return { vpcId, nlbGroupId, loadBalancerArn, serviceId };
  }

  async function group(name: string, vpcId: string): Promise<string> {
    const { GroupId = '' } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpcId }));
    return GroupId;
  }

  async function removal(stage: string, ...extra: string[]) {
    const out: string[] = [];
    const io: CliIo = { env: {}, stdout: (t) => void out.push(t), stderr: () => undefined, color: false };
    const code = await main(['doctor', '--removal', '--stage', stage, ...extra], io);
    return { code, stdout: out.join('') };
  }
  async function removalJson(...extra: string[]) {
    const { code, stdout } = await removal(STAGE, '--json', ...extra);
    const checks: CheckResult[] = JSON.parse(stdout).checks;
    return { code, check: (id: string) => checks.find((c) => c.id === id) };
  }

  it('finds nothing in the way of a stack whose PrivateLink side holds on to nothing but its own parts', async () => {
    const { code, check } = await removalJson();

    expect(code).toBe(0);
    expect(check('removal.stack')?.message).toContain('rds-nlb-prod');
    for (const id of ['removal.deletion-protection', 'removal.security-group-references', 'removal.connections', 'removal.connection-notifications']) {
      expect(check(id)?.status, id).toBe('pass');
    }
  });

  it("lists Fivetran's connection and a pending one, with unlink first and the reject command", async () => {
    const connected = await emulators.connections.createConsumerEndpoint({ serviceId: stack.serviceId, owner: FIVETRAN });
    // Accept and reject go through the front, which keeps the connections.
    const front = new EC2Client(emulatorClientConfig(emulators.connections.endpoint));
    await front.send(new AcceptVpcEndpointConnectionsCommand({ ServiceId: stack.serviceId, VpcEndpointIds: [connected] }));
    const pending = await emulators.connections.createConsumerEndpoint({ serviceId: stack.serviceId, owner: '111122223333' });
    const rejected = await emulators.connections.createConsumerEndpoint({ serviceId: stack.serviceId, owner: '444455556666' });
    await front.send(new RejectVpcEndpointConnectionsCommand({ ServiceId: stack.serviceId, VpcEndpointIds: [rejected] }));
    front.destroy();

    const { code, check } = await removalJson();

    expect(code).toBe(1);
    const connections = check('removal.connections');
    expect(connections?.status).toBe('fail');
    expect(connections?.message).toContain(`${connected} (`);
    expect(connections?.message).toContain(`${pending} (pendingAcceptance, account 111122223333)`);
    expect(connections?.message).not.toContain(rejected);
    expect(connections?.fix).toMatch(/^first delete Fivetran's Private Link \(rds-nlb-sync fivetran unlink/);
    expect(connections?.fix).toContain(`aws ec2 reject-vpc-endpoint-connections --service-id ${stack.serviceId} --vpc-endpoint-ids`);
    expect(connections?.fix).toContain(pending);
  });

  it("lists other groups' rules that reference the NLB's group, not the stack's own database rule", async () => {
    const app = await group('app', stack.vpcId);
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: app, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: stack.nlbGroupId, Description: 'hand-made' }] }] }));
    const client = await group('client', stack.vpcId);
    await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: client, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: stack.nlbGroupId }] }] }));

    const { code, check } = await removalJson();

    expect(code).toBe(1);
    const references = check('removal.security-group-references');
    expect(references?.status).toBe('fail');
    expect(references?.message).toContain('2 rule(s)');
    expect(references?.message).not.toContain(STACK_DB_RULE_DESCRIPTION);
    expect(references?.fix).toMatch(new RegExp(`aws ec2 revoke-security-group-ingress --group-id ${app} --security-group-rule-ids sgr-[0-9a-f]+`));
    expect(references?.fix).toMatch(new RegExp(`aws ec2 revoke-security-group-egress --group-id ${client} --security-group-rule-ids sgr-[0-9a-f]+`));
  });

  it('lists a connection notification made by hand, and the NLB\'s deletion protection, each with its command', async () => {
    const handMade = emulators.connections.createConnectionNotification({ serviceId: stack.serviceId, topicArn: 'arn:aws:sns:eu-west-1:123456789012:ops-endpoint-events' });
    await elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: stack.loadBalancerArn, Attributes: [{ Key: 'deletion_protection.enabled', Value: 'true' }] }));

    const { code, check } = await removalJson();

    expect(code).toBe(1);
    expect(check('removal.connection-notifications')).toMatchObject({
      status: 'fail',
      fix: `aws ec2 delete-vpc-endpoint-connection-notifications --connection-notification-ids ${handMade}`,
    });
    expect(check('removal.deletion-protection')).toMatchObject({
      status: 'fail',
      fix: `aws elbv2 modify-load-balancer-attributes --load-balancer-arn ${stack.loadBalancerArn} --attributes Key=deletion_protection.enabled,Value=false`,
    });
  });

  it('says a stage without a PrivateLink side has nothing to clear, and prints the verdict for people', async () => {
    const { code, stdout } = await removal('other');

    expect(code).toBe(0);
    expect(stdout).toContain('no load balancer tagged aws:cloudformation:stack-name=rds-nlb-sync-other');
    expect(stdout).toContain('nothing found that blocks `serverless remove --stage other`');
  });

  it("knows the stack's own database rule by the description serverless.yml gives it", () => {
    const yml = readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8');

    expect(yml).toContain(`Description: ${STACK_DB_RULE_DESCRIPTION}\n`);
  });

  it('fails, not passes, when a read is refused: unknown is not clear', async () => {
    const { code, check } = await removalJson('--load-balancer-arn', 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/gone/0123456789abcdef');

    expect(code).toBe(1);
    expect(check('removal.deletion-protection')?.status).toBe('fail');
  });

  it('refuses --removal without --stage', async () => {
    const errors: string[] = [];
    const code = await main(['doctor', '--removal'], { env: {}, stdout: () => undefined, stderr: (t) => void errors.push(t), color: false });

    expect(code).toBe(2);
    expect(errors.join('')).toContain('doctor --removal needs --stage <stage>');
  });
});
