// `rds-nlb-sync doctor` against moto (AWS API emulator) and the loopback DNS server: a correctly
// built chain, then one broken the ways Fivetran connections break (cross-zone load balancing off
// with the writer in a zone the NLB lacks; Fivetran's principal missing).
// moto gaps doctor must survive: DescribeVpcEndpointConnections answers HTTP 500 (service.connections
// warns "could not tell"), and targets carry no Availability Zone (doctor finds it from the subnets).
// The database is a real moto RDS cluster or instance (zones, security groups, parameter groups);
// moto lacks Lambda's GetAccountSettings (account.concurrency warns "could not tell": the
// unit tests cover it with mocks) and a Multi-AZ standby's SecondaryAvailabilityZone (unit tests).
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  CreateDBParameterGroupCommand,
  ModifyDBParameterGroupCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  AllocateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateSubnetCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  ModifyVpcEndpointServicePermissionsCommand,
} from '@aws-sdk/client-ec2';
import {
  ElasticLoadBalancingV2Client,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, type CliIo } from '../../cli/main.js';
import type { CheckResult } from '../../lib/doctor/run.js';
import {
  emulatorClientConfig,
  emulatorEnv,
  FIVETRAN_PRINCIPAL,
  motoOrSkip,
  seedAws,
  startEmulators,
  type Emulators,
  type SeededAws,
} from '../harness/index.js';

const ORDERS = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const SYNC_FUNCTION = 'rds-nlb-sync-test-sync';
const ACCEPT_FUNCTION = 'rds-nlb-sync-test-accept';

describe.skipIf(!motoOrSkip())('doctor against the AWS emulator', () => {
  let emulators: Emulators;
  let aws: SeededAws;
  let ec2: EC2Client;
  let elb: ElasticLoadBalancingV2Client;
  let rds: RDSClient;
  let dbGroupId: string;

  beforeAll(async () => {
    emulators = await startEmulators();
    ec2 = new EC2Client(emulatorClientConfig(emulators.moto.endpoint));
    elb = new ElasticLoadBalancingV2Client(emulatorClientConfig(emulators.moto.endpoint));
    rds = new RDSClient(emulatorClientConfig(emulators.moto.endpoint));
  });
  afterAll(async () => {
    ec2?.destroy();
    elb?.destroy();
    rds?.destroy();
    await emulators?.stop();
  });
  beforeEach(async () => {
    await emulators.moto.reset();
    aws = await seedAws(emulators.moto.endpoint);
    // The CLI's SDK clients find moto and dummy credentials through the standard chain (env).
    for (const [key, value] of Object.entries(emulatorEnv(emulators))) vi.stubEnv(key, value);
    await deployFunctions();
    dbGroupId = await createDbSecurityGroup('10.0.0.0/16');
    await createCluster('orders', ['eu-west-1a', 'eu-west-1b']);
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: tg(),
        Attributes: [
          { Key: 'deregistration_delay.timeout_seconds', Value: '10' },
          { Key: 'deregistration_delay.connection_termination.enabled', Value: 'true' },
        ],
      }),
    );
  });
  afterEach(() => vi.unstubAllEnvs());

  const tg = () => aws.targetGroupArns[0] ?? '';

  /** The two functions in the VPC's subnets, whose default route leads to a NAT gateway. */
  async function deployFunctions() {
    const role = await createRole('rds-nlb-sync-test');
    const lambda = new LambdaClient(emulatorClientConfig(emulators.moto.endpoint));
    try {
      for (const name of [SYNC_FUNCTION, ACCEPT_FUNCTION]) {
        await lambda.send(
          new CreateFunctionCommand({
            FunctionName: name,
            Runtime: 'nodejs24.x',
            Role: role,
            Handler: 'index.handler',
            Code: { ZipFile: Buffer.from('moto does not run it') },
            VpcConfig: { SubnetIds: [...aws.subnetIds], SecurityGroupIds: [] },
          }),
        );
      }
    } finally {
      lambda.destroy();
    }
    const { AllocationId } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const { NatGateway } = await ec2.send(new CreateNatGatewayCommand({ SubnetId: aws.subnetIds[0], AllocationId }));
    const { RouteTables = [] } = await ec2.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [aws.vpcId] }, { Name: 'association.main', Values: ['true'] }] }),
    );
    await ec2.send(new CreateRouteCommand({ RouteTableId: RouteTables[0]?.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: NatGateway?.NatGatewayId }));
  }

  /** The database's security group, admitting TCP 5432 from `cidr` (the seeded NLB has no security group). */
  async function createDbSecurityGroup(cidr: string): Promise<string> {
    const { GroupId = '' } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: `db-${Date.now()}`, Description: 'database', VpcId: aws.vpcId }));
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, IpRanges: [{ CidrIp: cidr }] }] }));
    return GroupId;
  }

  /** An Aurora PostgreSQL cluster with one instance per zone, the first the writer. */
  async function createCluster(id: string, zones: string[]) {
    await rds.send(new CreateDBClusterCommand({ DBClusterIdentifier: id, Engine: 'aurora-postgresql', MasterUsername: 'admin', MasterUserPassword: 'password123', VpcSecurityGroupIds: [dbGroupId] }));
    for (const [n, zone] of zones.entries()) await addInstance(id, `${id}-${n + 1}`, zone);
  }

  async function addInstance(clusterId: string, instanceId: string, zone: string) {
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: instanceId,
        DBClusterIdentifier: clusterId,
        DBInstanceClass: 'db.r6g.large',
        Engine: 'aurora-postgresql',
        AvailabilityZone: zone,
        VpcSecurityGroupIds: [dbGroupId],
      }),
    );
  }

  // The SDK's IAM client is not a dependency of this project; moto takes the plain query API.
  async function createRole(name: string): Promise<string> {
    const response = await fetch(emulators.moto.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: new URLSearchParams({ Action: 'CreateRole', Version: '2010-05-08', RoleName: name, AssumeRolePolicyDocument: '{}' }),
    });
    const arn = /<Arn>([^<]+)<\/Arn>/.exec(await response.text())?.[1];
    if (!response.ok || !arn) throw new Error(`moto CreateRole failed: HTTP ${response.status}`);
    return arn;
  }

  let endpoint = ORDERS;
  beforeEach(() => {
    endpoint = ORDERS;
  });

  async function cli(...args: string[]) {
    const out: string[] = [];
    const io: CliIo = { env: {}, stdout: (t) => void out.push(t), stderr: () => undefined, color: false };
    const mapping = ['--endpoint', endpoint, '--target-group-arn', tg(), '--port', '5432', '--dns-servers', emulators.dns.address, '--dns-tries', '1'];
    const code = await main([...args, ...mapping], io);
    return { code, stdout: out.join('') };
  }

  async function doctor() {
    const { code, stdout } = await cli('doctor', '--json', '--sync-function', SYNC_FUNCTION, '--accept-function', ACCEPT_FUNCTION);
    const checks: CheckResult[] = JSON.parse(stdout).checks;
    return { code, checks, status: Object.fromEntries(checks.map((c) => [c.id, c.status])), check: (id: string) => checks.find((c) => c.id === id) };
  }

  it('passes a correctly built chain and exits 0; only what moto cannot show, and the seeded NLB without a security group, warn', async () => {
    emulators.dns.setA(ORDERS, ['10.0.1.5']);
    expect((await cli('sync', '--local')).code).toBe(0); // registers the target and sends the SyncSuccess heartbeat
    await emulators.elb.settled(tg()); // ELB's registration and health checks (the harness's front models them)

    const { code, status, check } = await doctor();

    expect(status).toEqual({
      'dns.resolves': 'pass',
      'dns.private': 'pass',
      'target-group.settings': 'pass',
      'targets.registered': 'pass',
      'targets.health': 'pass',
      'nlb.attached': 'pass',
      'nlb.zones': 'pass',
      'target-group.deregistration': 'pass',
      'nlb.idle-timeout': 'pass',
      'vpc.dns': 'pass',
      'db.security-groups': 'pass',
      'db.max-connect-errors': 'pass',
      'service.exists': 'pass',
      'nlb.security-group': 'warn',
      'service.principals': 'pass',
      'service.acceptance': 'pass',
      'service.connections': 'warn',
      'function.sync': 'pass',
      'function.sync.network': 'pass',
      'account.concurrency': 'warn',
      'function.accept': 'pass',
      'function.accept.network': 'pass',
      'sync.heartbeat': 'pass',
      // The probe runs in the deployed function only (in the VPC): `sync --local` publishes no ProbeSuccess.
      'probe.last': 'warn',
    });
    expect(check('probe.last')?.message).toMatch(/^no ProbeSuccess in namespace \S+ for 15 minutes/);
    // The harness now emulates endpoint connections: none exists yet, so this warns on its own terms.
    expect(check('service.connections')?.message).toBe('no endpoint connection from an allowed account yet');
    expect(check('nlb.zones')?.message).toContain('every zone of Aurora cluster orders (orders-1 (writer) in eu-west-1a, orders-2 (reader, can become the writer) in eu-west-1b)');
    expect(check('db.security-groups')?.message).toContain(`orders-1, orders-2 (security group ${dbGroupId}) admit NLB rds-nlb-sync on TCP 5432`);
    expect(check('nlb.security-group')?.message).toContain('has no security group, and one can never be added to it');
    expect(check('account.concurrency')?.message).toMatch(/^could not tell/);
    expect(check('service.exists')?.message).toContain(aws.serviceName);
    expect(code).toBe(0);
  });

  it('fails a broken chain and exits 1: writer outside the NLB zones with cross-zone off, Fivetran not allowed', async () => {
    // Failover to a writer in eu-west-1c, a zone the NLB (eu-west-1a, eu-west-1b) lacks.
    await ec2.send(new CreateSubnetCommand({ VpcId: aws.vpcId, CidrBlock: '10.0.3.0/24', AvailabilityZone: 'eu-west-1c' }));
    emulators.dns.setA(ORDERS, ['10.0.3.10']);
    expect((await cli('sync', '--local')).code).toBe(0);
    await elb.send(
      new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: aws.loadBalancerArn, Attributes: [{ Key: 'load_balancing.cross_zone.enabled', Value: 'false' }] }),
    );
    await ec2.send(new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: aws.serviceId, RemoveAllowedPrincipals: [FIVETRAN_PRINCIPAL] }));

    const { code, checks, check } = await doctor();

    expect(checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['nlb.zones', 'service.principals']);
    expect(check('nlb.zones')?.message).toContain('NLB rds-nlb-sync is only in eu-west-1a, eu-west-1b, but target 10.0.3.10 is in eu-west-1c');
    expect(check('service.principals')?.fix).toContain(`--add-allowed-principals ${FIVETRAN_PRINCIPAL}`);
    expect(code).toBe(1);
  });

  it('prints the broken links as FAIL lines with their fixes', async () => {
    await ec2.send(new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: aws.serviceId, RemoveAllowedPrincipals: [FIVETRAN_PRINCIPAL] }));
    emulators.dns.setA(ORDERS, ['10.0.1.5']);
    await cli('sync', '--local');
    await emulators.elb.settled(tg());

    const { code, stdout } = await cli('doctor', '--sync-function', SYNC_FUNCTION, '--accept-function', ACCEPT_FUNCTION);

    expect(code).toBe(1);
    expect(stdout).toMatch(/ {2}FAIL {2}service\.principals +Fivetran \(arn:aws:iam::834469178297:root\) may not connect.*\n +fix: aws ec2 modify-vpc-endpoint-service-permissions/);
    expect(stdout).toContain('FAILED: 19 passed, 4 warnings, 1 failed');
  });

  it('fails nlb.zones for a reader in a zone the NLB lacks, whatever the cross-zone setting', async () => {
    await elb.send(
      new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: aws.loadBalancerArn, Attributes: [{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }] }),
    );
    await addInstance('orders', 'orders-3', 'eu-west-1c');
    emulators.dns.setA(ORDERS, ['10.0.1.5']);
    await cli('sync');

    const { code, check } = await doctor();

    expect(check('nlb.zones')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('but orders-3 (reader, can become the writer) is in eu-west-1c'),
      fix: expect.stringContaining(`aws elbv2 set-subnets --load-balancer-arn ${aws.loadBalancerArn} --subnets ${aws.subnetIds.join(' ')} <subnet-in-eu-west-1c>`),
    });
    expect(code).toBe(1);
  });

  it("fails db.security-groups when the database's group does not cover the NLB's subnets", async () => {
    endpoint = 'ledger.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
    dbGroupId = await createDbSecurityGroup('10.0.1.0/24');
    await createCluster('ledger', ['eu-west-1a']);
    emulators.dns.setA(endpoint, ['10.0.1.5']);
    await cli('sync');

    const { check } = await doctor();

    expect(check('db.security-groups')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining("does not admit NLB rds-nlb-sync's subnets 10.0.2.0/24"),
      fix: `aws ec2 authorize-security-group-ingress --group-id ${dbGroupId} --protocol tcp --port 5432 --cidr 10.0.2.0/24`,
    });
  });

  it('fails db.max-connect-errors for MySQL left at the default, and passes once the parameter group raises it', async () => {
    endpoint = 'billing.c0ffee.eu-west-1.rds.amazonaws.com';
    await rds.send(new CreateDBParameterGroupCommand({ DBParameterGroupName: 'billing-params', DBParameterGroupFamily: 'mysql8.0', Description: 'billing' }));
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'billing',
        DBInstanceClass: 'db.t4g.micro',
        Engine: 'mysql',
        AllocatedStorage: 20,
        MasterUsername: 'admin',
        MasterUserPassword: 'password123',
        AvailabilityZone: 'eu-west-1a',
        DBParameterGroupName: 'billing-params',
        VpcSecurityGroupIds: [dbGroupId],
      }),
    );
    emulators.dns.setA(endpoint, ['10.0.1.5']);
    await cli('sync');

    const before = (await doctor()).check('db.max-connect-errors');
    await rds.send(
      new ModifyDBParameterGroupCommand({
        DBParameterGroupName: 'billing-params',
        Parameters: [{ ParameterName: 'max_connect_errors', ParameterValue: '4294967295', ApplyMethod: 'immediate' }],
      }),
    );
    const after = (await doctor()).check('db.max-connect-errors');

    expect(before).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('max_connect_errors is 100 on billing (engine default)'),
      fix: expect.stringContaining('aws rds modify-db-parameter-group --db-parameter-group-name billing-params'),
    });
    expect(after).toMatchObject({ status: 'pass', message: 'max_connect_errors 4294967295 on billing: NLB health checks never reach it' });
  });
});
