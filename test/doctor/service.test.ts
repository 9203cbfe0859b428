// doctor's checks of the PrivateLink side (lib/doctor/service.ts), EC2 through aws-sdk-client-mock.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  DescribeVpcEndpointServicePermissionsCommand,
  EC2Client,
  type ServiceConfiguration,
  type State,
  type VpcEndpointConnection,
} from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDoctorReader } from '../../lib/doctor/read.js';
import { serviceAcceptance, serviceConnections, serviceExists, servicePrincipals } from '../../lib/doctor/service.js';
import type { Check, DoctorContext } from '../../lib/doctor/verdict.js';

const LB_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/fivetran/0123456789abcdef';
const OTHER_LB = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/other/fedcba9876543210';
const SERVICE = 'vpce-svc-0123456789abcdef0';
const FIVETRAN = '834469178297';
const FIVETRAN_ROOT = `arn:aws:iam::${FIVETRAN}:root`;
const STRANGER = '111122223333';

const ec2 = new EC2Client({ region: 'eu-west-1' });
const ec2Mock = mockClient(ec2);
beforeEach(() => ec2Mock.reset());

function run<S>(check: Check<S>, subject: S, options: Partial<Pick<DoctorContext, 'serviceIds' | 'allowedAccounts'>> = {}) {
  const clients = {
    elb: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
    ec2,
    lambda: new LambdaClient({ region: 'eu-west-1' }),
    cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }),
    rds: new RDSClient({ region: 'eu-west-1' }),
    resolve: async () => [],
  };
  const ctx: DoctorContext = { reader: createDoctorReader(clients), region: 'eu-west-1', serviceIds: [], allowedAccounts: [FIVETRAN], now: Date.now, ...options };
  return check.run(subject, ctx);
}

const service = (overrides: Partial<ServiceConfiguration> = {}): ServiceConfiguration => ({
  ServiceId: SERVICE,
  ServiceName: `com.amazonaws.vpce.eu-west-1.${SERVICE}`,
  ServiceState: 'Available',
  AcceptanceRequired: true,
  NetworkLoadBalancerArns: [LB_ARN],
  ...overrides,
});
const givenServices = (...services: ServiceConfiguration[]) =>
  ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({ ServiceConfigurations: services });
const givenPrincipals = (...principals: string[]) =>
  ec2Mock.on(DescribeVpcEndpointServicePermissionsCommand).resolves({ AllowedPrincipals: principals.map((Principal) => ({ Principal })) });
const givenConnections = (...connections: VpcEndpointConnection[]) =>
  ec2Mock.on(DescribeVpcEndpointConnectionsCommand).resolves({ VpcEndpointConnections: connections });
const connection = (id: string, owner: string, state: string): VpcEndpointConnection => ({
  ServiceId: SERVICE,
  VpcEndpointId: id,
  VpcEndpointOwner: owner,
  VpcEndpointState: state as State, // EC2 answers lower camel case: "available", "pendingAcceptance"
});

describe('service.exists', () => {
  it('passes with the service name to give Fivetran', async () => {
    givenServices(service({ NetworkLoadBalancerArns: [OTHER_LB], ServiceId: 'vpce-svc-other' }), service());

    expect(await run(serviceExists, LB_ARN)).toEqual({
      status: 'pass',
      message: `${SERVICE} uses it: Fivetran connects to service name com.amazonaws.vpce.eu-west-1.${SERVICE}`,
    });
  });

  it('fails when no endpoint service uses the NLB, with the command to create one', async () => {
    givenServices(service({ NetworkLoadBalancerArns: [OTHER_LB] }));

    const verdict = await run(serviceExists, LB_ARN);

    expect(verdict).toMatchObject({ status: 'fail', message: 'no VPC endpoint service uses this NLB' });
    expect(verdict.fix).toContain(`create-vpc-endpoint-service-configuration --network-load-balancer-arns ${LB_ARN}`);
  });

  it('fails when ENDPOINT_SERVICE_IDS names services that do not use the NLB, naming the unknown one', async () => {
    givenServices(service({ ServiceId: 'vpce-svc-other', NetworkLoadBalancerArns: [OTHER_LB] }), service());

    const verdict = await run(serviceExists, LB_ARN, { serviceIds: ['vpce-svc-other', 'vpce-svc-00000000deadbeef'] });

    expect(verdict).toMatchObject({
      status: 'fail',
      message: 'no VPC endpoint service of ENDPOINT_SERVICE_IDS uses this NLB; ENDPOINT_SERVICE_IDS vpce-svc-00000000deadbeef not found in eu-west-1',
    });
  });

  it('fails for a service in state Failed', async () => {
    givenServices(service({ ServiceState: 'Failed' }));

    expect(await run(serviceExists, LB_ARN)).toMatchObject({ status: 'fail', message: `${SERVICE} is Failed` });
  });

  it('reads every page of the account\'s services', async () => {
    ec2Mock
      .on(DescribeVpcEndpointServiceConfigurationsCommand)
      .resolvesOnce({ ServiceConfigurations: [service({ ServiceId: 'vpce-svc-other', NetworkLoadBalancerArns: [OTHER_LB] })], NextToken: 'p2' })
      .resolvesOnce({ ServiceConfigurations: [service()] });

    expect(await run(serviceExists, LB_ARN)).toMatchObject({ status: 'pass' });
  });
});

describe('service.principals', () => {
  it("passes when Fivetran's principal is allowed", async () => {
    givenPrincipals(FIVETRAN_ROOT);

    expect(await run(servicePrincipals, service())).toEqual({ status: 'pass', message: `Fivetran (${FIVETRAN_ROOT}) may connect` });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeVpcEndpointServicePermissionsCommand, { ServiceId: SERVICE });
  });

  it("fails when Fivetran's principal is missing, with the command that adds it", async () => {
    givenPrincipals(`arn:aws:iam::${STRANGER}:root`);

    const verdict = await run(servicePrincipals, service());

    expect(verdict).toMatchObject({ status: 'fail', message: expect.stringContaining(`Fivetran (${FIVETRAN_ROOT}) may not connect`) });
    expect(verdict.fix).toBe(`aws ec2 modify-vpc-endpoint-service-permissions --service-id ${SERVICE} --add-allowed-principals ${FIVETRAN_ROOT}`);
  });

  it('does not count a role of the account as its root principal', async () => {
    givenPrincipals(`arn:aws:iam::${FIVETRAN}:role/some-role`);

    expect(await run(servicePrincipals, service())).toMatchObject({ status: 'fail' });
  });

  it('warns when every account may connect ("*")', async () => {
    givenPrincipals('*');

    expect(await run(servicePrincipals, service())).toMatchObject({ status: 'warn', message: expect.stringContaining('every AWS account') });
  });

  it('checks every account of ALLOWED_PRINCIPALS', async () => {
    givenPrincipals(FIVETRAN_ROOT);

    const verdict = await run(servicePrincipals, service(), { allowedAccounts: [FIVETRAN, STRANGER] });

    expect(verdict).toMatchObject({ status: 'fail', message: expect.stringContaining(`arn:aws:iam::${STRANGER}:root may not connect`) });
  });
});

describe('service.acceptance', () => {
  it('passes when acceptance is required: the accept function decides', async () => {
    givenPrincipals(FIVETRAN_ROOT);

    expect(await run(serviceAcceptance, service())).toMatchObject({ status: 'pass', message: expect.stringContaining('acceptance required') });
  });

  it('passes without acceptance when only listed principals may connect', async () => {
    givenPrincipals(FIVETRAN_ROOT);

    expect(await run(serviceAcceptance, service({ AcceptanceRequired: false }))).toMatchObject({ status: 'pass', message: expect.stringContaining('acceptance not required') });
  });

  it('fails when anyone may connect and nobody has to accept', async () => {
    givenPrincipals('*');

    const verdict = await run(serviceAcceptance, service({ AcceptanceRequired: false }));

    expect(verdict).toMatchObject({ status: 'fail', fix: `aws ec2 modify-vpc-endpoint-service-configuration --service-id ${SERVICE} --acceptance-required` });
  });
});

describe('service.connections', () => {
  it("passes when Fivetran's endpoint is available", async () => {
    givenConnections(connection('vpce-1', FIVETRAN, 'available'));

    expect(await run(serviceConnections, service())).toEqual({ status: 'pass', message: 'connected (available): vpce-1 (Fivetran)' });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeVpcEndpointConnectionsCommand, { Filters: [{ Name: 'service-id', Values: [SERVICE] }] });
  });

  it("fails when Fivetran's endpoint waits in pendingAcceptance", async () => {
    givenConnections(connection('vpce-1', FIVETRAN, 'pendingAcceptance'));

    const verdict = await run(serviceConnections, service());

    expect(verdict).toMatchObject({ status: 'fail', message: 'waiting in pendingAcceptance: vpce-1 (Fivetran)' });
    expect(verdict.fix).toContain('rds-nlb-sync accept');
  });

  it('warns about a connection from an account not on the list, left pending by design', async () => {
    givenConnections(connection('vpce-1', FIVETRAN, 'available'), connection('vpce-2', STRANGER, 'pendingAcceptance'));

    expect(await run(serviceConnections, service())).toMatchObject({
      status: 'warn',
      message: `waiting in pendingAcceptance from accounts not in ALLOWED_PRINCIPALS: vpce-2 (${STRANGER})`,
    });
  });

  it('warns when Fivetran has not connected yet, with the service name to give it', async () => {
    givenConnections();

    expect(await run(serviceConnections, service())).toMatchObject({
      status: 'warn',
      fix: `Give Fivetran the service name com.amazonaws.vpce.eu-west-1.${SERVICE} in the connector's PrivateLink setup.`,
    });
  });

  it("fails when Fivetran's endpoint was rejected", async () => {
    givenConnections(connection('vpce-1', FIVETRAN, 'rejected'));

    expect(await run(serviceConnections, service())).toMatchObject({ status: 'fail', message: 'rejected: vpce-1 (Fivetran)' });
  });

  it('ignores connections of other services an emulator might return', async () => {
    givenConnections({ ...connection('vpce-9', FIVETRAN, 'pendingAcceptance'), ServiceId: 'vpce-svc-other' }, connection('vpce-1', FIVETRAN, 'available'));

    expect(await run(serviceConnections, service())).toMatchObject({ status: 'pass' });
  });
});
