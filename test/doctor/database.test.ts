// doctor's checks between the NLB and the database (lib/doctor/database.ts) and the topology
// they read (lib/doctor/topology.ts): the pure decisions, then the checks over mocked ELBv2, EC2
// and RDS clients (aws-sdk-client-mock).
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client, type IpPermission, type SecurityGroup } from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  type LoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeDBClusterEndpointsCommand,
  DescribeDBClusterParametersCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBParametersCommand,
  RDSClient,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadSyncConfig, type Mapping } from '../../lib/config.js';
import {
  cidrContains,
  connectErrorsFix,
  dbSecurityGroups,
  decideDbSecurityGroups,
  decideMaxConnectErrors,
  decideNlbSecurityGroup,
  maxConnectErrors,
  nlbSecurityGroup,
  type DbSecurityFacts,
} from '../../lib/doctor/database.js';
import { createDoctorReader } from '../../lib/doctor/read.js';
import { eligibleMembers, instanceFacts, readTopology, type DbInstanceFacts, type TopologyReads } from '../../lib/doctor/topology.js';
import type { Check, DoctorContext } from '../../lib/doctor/verdict.js';
import { createResolver } from '../../lib/dns.js';
import { ORDERS, TG_A } from '../fixtures.js';
import { startDnsServer, type DnsServer } from '../harness/index.js';

const LB_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/fivetran/0123456789abcdef';

const tcp = (port: number, source: Partial<IpPermission>): IpPermission => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, ...source });
const fromGroup = (groupId: string) => ({ UserIdGroupPairs: [{ GroupId: groupId }] });
const fromCidr = (...cidrs: string[]) => ({ IpRanges: cidrs.map((CidrIp) => ({ CidrIp })) });

// ---------------------------------------------------------------------------------------------

describe('decideDbSecurityGroups', () => {
  const facts = (overrides: Partial<DbSecurityFacts> = {}): DbSecurityFacts => ({
    port: 5432,
    instances: [
      { id: 'orders-1', groupIds: ['sg-db'] },
      { id: 'orders-2', groupIds: ['sg-db'] },
    ],
    groups: [{ GroupId: 'sg-db', IpPermissions: [tcp(5432, fromGroup('sg-nlb'))] }, { GroupId: 'sg-nlb', IpPermissionsEgress: [{ IpProtocol: '-1', ...fromCidr('0.0.0.0/0') }] }],
    nlbName: 'fivetran',
    nlbGroupIds: ['sg-nlb'],
    nlbSubnets: [
      { subnetId: 'subnet-a', cidr: '10.0.1.0/24' },
      { subnetId: 'subnet-b', cidr: '10.0.2.0/24' },
    ],
    dbAddresses: ['10.0.1.5'],
    ...overrides,
  });

  it("passes when the database's group admits the NLB's security group on the DB port", () => {
    expect(decideDbSecurityGroups(facts())).toEqual({ status: 'pass', message: 'orders-1, orders-2 (security group sg-db) admit NLB fivetran on TCP 5432' });
  });

  it("passes an NLB without a security group when the database's ranges cover every NLB subnet", () => {
    const groups: SecurityGroup[] = [{ GroupId: 'sg-db', IpPermissions: [tcp(5432, fromCidr('10.0.0.0/16'))] }];

    expect(decideDbSecurityGroups(facts({ nlbGroupIds: [], groups }))).toMatchObject({ status: 'pass' });
  });

  it('fails naming each NLB subnet the database does not admit, with one command per range', () => {
    const groups: SecurityGroup[] = [{ GroupId: 'sg-db', IpPermissions: [tcp(5432, fromCidr('10.0.1.0/24'))] }];

    const verdict = decideDbSecurityGroups(facts({ nlbGroupIds: [], groups }));

    expect(verdict).toEqual({
      status: 'fail',
      message: "orders-1, orders-2 (security group sg-db) do not admit NLB fivetran's subnets 10.0.2.0/24 (subnet-b) on TCP 5432: health checks fail and Fivetran cannot connect",
      fix: 'aws ec2 authorize-security-group-ingress --group-id sg-db --protocol tcp --port 5432 --cidr 10.0.2.0/24',
    });
  });

  it("fails when the database admits the NLB's group on another port only, and says how to admit it", () => {
    const groups: SecurityGroup[] = [{ GroupId: 'sg-db', IpPermissions: [tcp(3306, fromGroup('sg-nlb')), { IpProtocol: 'udp', FromPort: 0, ToPort: 65535, ...fromGroup('sg-nlb') }] }];

    const verdict = decideDbSecurityGroups(facts({ groups: [...groups, ...facts().groups.slice(1)] }));

    expect(verdict.status).toBe('fail');
    expect(verdict.message).toContain('admit neither NLB security group sg-nlb nor');
    expect(verdict.fix).toBe(
      'aws ec2 authorize-security-group-ingress --group-id sg-db --protocol tcp --port 5432 --source-group sg-nlb (the deployment adds this rule when given --param dbSecurityGroupId=sg-db)',
    );
  });

  it('counts an all-traffic rule as admitting the port', () => {
    const groups: SecurityGroup[] = [{ GroupId: 'sg-db', IpPermissions: [{ IpProtocol: '-1', ...fromGroup('sg-nlb') }] }, ...facts().groups.slice(1)];

    expect(decideDbSecurityGroups(facts({ groups }))).toMatchObject({ status: 'pass' });
  });

  it('warns instead of failing when a prefix list may hold the ranges', () => {
    const groups: SecurityGroup[] = [{ GroupId: 'sg-db', IpPermissions: [tcp(5432, { PrefixListIds: [{ PrefixListId: 'pl-1' }] })] }];

    expect(decideDbSecurityGroups(facts({ nlbGroupIds: [], groups }))).toMatchObject({ status: 'warn', message: expect.stringContaining('doctor does not read prefix lists') });
  });

  it("fails when the NLB's security group lets no health check out to the database", () => {
    const groups: SecurityGroup[] = [facts().groups[0] as SecurityGroup, { GroupId: 'sg-nlb', IpPermissionsEgress: [tcp(443, fromCidr('0.0.0.0/0'))] }];

    const verdict = decideDbSecurityGroups(facts({ groups }));

    expect(verdict).toMatchObject({ status: 'fail', message: expect.stringContaining('NLB security group sg-nlb lets no TCP 5432 out to the database (10.0.1.5)') });
    expect(verdict.fix).toContain("aws ec2 authorize-security-group-egress --group-id sg-nlb --ip-permissions 'IpProtocol=tcp,FromPort=5432,ToPort=5432,UserIdGroupPairs=[{GroupId=sg-db}]'");
  });

  it('passes egress to the database group or to a range holding its addresses', () => {
    for (const out of [tcp(5432, fromGroup('sg-db')), tcp(5432, fromCidr('10.0.1.0/24'))]) {
      const groups: SecurityGroup[] = [facts().groups[0] as SecurityGroup, { GroupId: 'sg-nlb', IpPermissionsEgress: [out] }];

      expect(decideDbSecurityGroups(facts({ groups }))).toMatchObject({ status: 'pass' });
    }
  });

  it('reports instances with different groups apart', () => {
    const groups: SecurityGroup[] = [...facts().groups, { GroupId: 'sg-old', IpPermissions: [] }];
    const instances = [
      { id: 'orders-1', groupIds: ['sg-db'] },
      { id: 'orders-2', groupIds: ['sg-old'] },
    ];

    expect(decideDbSecurityGroups(facts({ instances, groups }))).toMatchObject({ status: 'fail', message: expect.stringMatching(/^orders-2 \(security group sg-old\) admits neither/) });
  });
});

describe('cidrContains', () => {
  it('holds a narrower range or an address inside, and nothing outside', () => {
    expect(cidrContains('10.0.0.0/16', '10.0.2.0/24')).toBe(true);
    expect(cidrContains('10.0.0.0/16', '10.0.2.7')).toBe(true);
    expect(cidrContains('10.0.1.0/24', '10.0.0.0/16')).toBe(false);
    expect(cidrContains('10.1.0.0/16', '10.0.2.0/24')).toBe(false);
    expect(cidrContains('0.0.0.0/0', '192.168.1.0/24')).toBe(true);
  });
});

describe('decideNlbSecurityGroup', () => {
  const nlbGroup = (...rules: IpPermission[]): SecurityGroup => ({ GroupId: 'sg-nlb', IpPermissions: rules });

  it('warns that an NLB without a security group can never get one', () => {
    const verdict = decideNlbSecurityGroup({ name: 'fivetran', groupIds: [], groups: [], enforcement: 'on', listenerPorts: [5432] });

    expect(verdict).toMatchObject({ status: 'warn', message: expect.stringContaining('has no security group, and one can never be added to it') });
    expect(verdict.fix).toContain('give Fivetran the new service name');
  });

  it('reports enforcement off as a pass', () => {
    expect(decideNlbSecurityGroup({ name: 'fivetran', groupIds: ['sg-nlb'], groups: [], enforcement: 'off', listenerPorts: [] })).toEqual({
      status: 'pass',
      message: "security group sg-nlb; EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic is off: its inbound rules do not filter Fivetran's PrivateLink traffic",
    });
  });

  it('fails when enforcement is on and no inbound rule admits the listener port: PrivateLink traffic is dropped silently', () => {
    const verdict = decideNlbSecurityGroup({ name: 'fivetran', groupIds: ['sg-nlb'], groups: [nlbGroup(tcp(443, fromCidr('0.0.0.0/0')))], enforcement: 'on', listenerPorts: [5432] });

    expect(verdict).toMatchObject({ status: 'fail', message: expect.stringContaining('admits nothing on listener port 5432') });
    expect(verdict.fix).toContain('--enforce-security-group-inbound-rules-on-private-link-traffic off');
  });

  it('warns when enforcement is on and the rules admit only some sources', () => {
    expect(decideNlbSecurityGroup({ name: 'fivetran', groupIds: ['sg-nlb'], groups: [nlbGroup(tcp(5432, fromCidr('10.0.0.0/16')))], enforcement: 'on', listenerPorts: [5432] })).toMatchObject({
      status: 'warn',
    });
  });

  it('passes when enforcement is on and the listener port is open to every source', () => {
    expect(decideNlbSecurityGroup({ name: 'fivetran', groupIds: ['sg-nlb'], groups: [nlbGroup(tcp(5432, fromCidr('0.0.0.0/0')))], enforcement: 'on', listenerPorts: [5432] })).toMatchObject({
      status: 'pass',
    });
  });
});

describe('decideMaxConnectErrors', () => {
  const mysql = (overrides: Partial<DbInstanceFacts> = {}): DbInstanceFacts => ({
    id: 'billing',
    role: 'instance',
    engine: 'mysql',
    subnetGroupZones: [],
    securityGroupIds: [],
    parameterGroup: 'default.mysql8.0',
    ...overrides,
  });

  it('fails the default of 100: about 17 minutes of health checks every 10 s', () => {
    const verdict = decideMaxConnectErrors([{ instance: mysql(), value: 100, source: 'engine default' }], 10);

    expect(verdict.status).toBe('fail');
    expect(verdict.message).toContain('max_connect_errors is 100 on billing (engine default): MySQL blocks an NLB node\'s address after that many health checks');
    expect(verdict.message).toContain('about 17 min at one check every 10 s');
  });

  it('passes a value that lasts more than a year of health checks', () => {
    expect(decideMaxConnectErrors([{ instance: mysql(), value: 4294967295, source: 'parameter group p' }], 5)).toMatchObject({ status: 'pass' });
    expect(decideMaxConnectErrors([{ instance: mysql(), value: 1_000_000, source: 'parameter group p' }], 10)).toMatchObject({ status: 'fail' });
  });

  it('creates a custom group when the instance uses a default one (which cannot be changed)', () => {
    const fix = connectErrorsFix(mysql());

    expect(fix).toContain('aws rds create-db-parameter-group --db-parameter-group-name rds-nlb-sync-mysql8-0 --db-parameter-group-family mysql8.0');
    expect(fix).toContain('aws rds modify-db-parameter-group --db-parameter-group-name rds-nlb-sync-mysql8-0 --parameters "ParameterName=max_connect_errors,ParameterValue=4294967295,ApplyMethod=immediate"');
    expect(fix).toContain('aws rds modify-db-instance --db-instance-identifier billing --db-parameter-group-name rds-nlb-sync-mysql8-0 --apply-immediately');
  });

  it("changes a custom group in place, and a Multi-AZ DB cluster's cluster parameter group", () => {
    expect(connectErrorsFix(mysql({ parameterGroup: 'billing-params' }))).toBe(
      'billing: aws rds modify-db-parameter-group --db-parameter-group-name billing-params --parameters "ParameterName=max_connect_errors,ParameterValue=4294967295,ApplyMethod=immediate" (dynamic: applies at once).',
    );
    expect(connectErrorsFix(mysql({ role: 'writer', clusterParameterGroup: 'billing-cluster' }))).toContain('aws rds modify-db-cluster-parameter-group --db-cluster-parameter-group-name billing-cluster');
  });
});

describe('eligibleMembers', () => {
  const cluster = { DBClusterMembers: ['a', 'b', 'c'].map((id) => ({ DBInstanceIdentifier: id })) };

  it('takes every member for the cluster and reader endpoints, static or non-excluded ones for a custom endpoint', () => {
    expect([...eligibleMembers(cluster)]).toEqual(['a', 'b', 'c']);
    expect([...eligibleMembers(cluster, { StaticMembers: ['b'] })]).toEqual(['b']);
    expect([...eligibleMembers(cluster, { ExcludedMembers: ['a'] })]).toEqual(['b', 'c']);
  });
});

describe('readTopology', () => {
  const reads = (overrides: Partial<TopologyReads> = {}): TopologyReads => ({
    dbInstance: async () => undefined,
    dbCluster: async () => undefined,
    clusterInstances: async () => [],
    clusterEndpoint: async () => undefined,
    ...overrides,
  });

  it('says why for a proxy, another region, and a database that is not there', async () => {
    expect(await readTopology('p.proxy-c0ffee.eu-west-1.rds.amazonaws.com', 'eu-west-1', reads())).toMatchObject({ known: false, why: expect.stringContaining('RDS Proxy') });
    expect(await readTopology(ORDERS, 'us-east-1', reads())).toEqual({
      known: false,
      why: `${ORDERS} is in eu-west-1, doctor reads us-east-1: run doctor with --region eu-west-1`,
    });
    expect(await readTopology(ORDERS, 'eu-west-1', reads())).toEqual({ known: false, why: 'DB cluster orders not found in eu-west-1' });
  });

  it("reads a custom endpoint's cluster and keeps only its members", async () => {
    const topology = await readTopology(
      'reporting.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com',
      'eu-west-1',
      reads({
        clusterEndpoint: async () => ({ DBClusterIdentifier: 'orders', StaticMembers: ['orders-3'] }),
        dbCluster: async () => ({ Engine: 'aurora-mysql', DBClusterMembers: ['orders-1', 'orders-3'].map((id, n) => ({ DBInstanceIdentifier: id, IsClusterWriter: n === 0 })) }),
        clusterInstances: async () => ['orders-1', 'orders-3'].map((id): DBInstance => ({ DBInstanceIdentifier: id, AvailabilityZone: 'eu-west-1c' })),
      }),
    );

    expect(topology).toMatchObject({ known: true, name: 'Aurora cluster orders (custom endpoint reporting)', instances: [{ id: 'orders-3', role: 'reader', zone: 'eu-west-1c' }] });
  });

  it("keeps a Multi-AZ instance's standby zone, its groups and parameter group", () => {
    const facts = instanceFacts(
      {
        DBInstanceIdentifier: 'billing',
        Engine: 'mysql',
        MultiAZ: true,
        AvailabilityZone: 'eu-west-1a',
        SecondaryAvailabilityZone: 'eu-west-1b',
        VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-db' }],
        DBParameterGroups: [{ DBParameterGroupName: 'default.mysql8.0' }],
        Endpoint: { Port: 3306 },
      },
      'instance',
    );

    expect(facts).toEqual({
      id: 'billing',
      role: 'instance',
      zone: 'eu-west-1a',
      standbyZone: 'eu-west-1b',
      subnetGroupZones: [],
      engine: 'mysql',
      port: 3306,
      securityGroupIds: ['sg-db'],
      parameterGroup: 'default.mysql8.0',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The checks over mocked clients.

const elb = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' });
const ec2 = new EC2Client({ region: 'eu-west-1' });
const rds = new RDSClient({ region: 'eu-west-1' });
const elbMock = mockClient(elb);
const ec2Mock = mockClient(ec2);
const rdsMock = mockClient(rds);
const BILLING = 'billing.c0ffee.eu-west-1.rds.amazonaws.com';

let dns: DnsServer;
beforeAll(async () => {
  dns = await startDnsServer();
});
afterAll(() => dns?.close());

let mapping: Mapping;
beforeEach(() => {
  [elbMock, ec2Mock, rdsMock].forEach((m) => m.reset());
  dns.setA(BILLING, ['10.0.1.7']);
  [mapping] = loadSyncConfig({ RDS_ENDPOINT: BILLING, TARGET_GROUP_ARN: TG_A, TARGET_PORT: '3306' }).mappings as [Mapping];
  elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG_A, LoadBalancerArns: [LB_ARN], HealthCheckIntervalSeconds: 10 }] });
});

function run<S>(check: Check<S>, subject: S) {
  const resolve = createResolver({ servers: [dns.address], timeoutMs: 300, tries: 1 });
  const clients = { elb, ec2, rds, lambda: new LambdaClient({ region: 'eu-west-1' }), cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }), resolve };
  const ctx: DoctorContext = { reader: createDoctorReader(clients), region: 'eu-west-1', serviceIds: [], allowedAccounts: ['834469178297'], now: Date.now };
  return check.run(subject, ctx);
}

const givenBilling = (overrides: Partial<DBInstance> = {}) =>
  rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'billing' }).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'billing',
        Engine: 'mysql',
        AvailabilityZone: 'eu-west-1a',
        VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-db' }],
        DBParameterGroups: [{ DBParameterGroupName: 'billing-params' }],
        ...overrides,
      },
    ],
  });
const givenLoadBalancer = (overrides: Partial<LoadBalancer> = {}) =>
  elbMock.on(DescribeLoadBalancersCommand).resolves({
    LoadBalancers: [{ LoadBalancerArn: LB_ARN, LoadBalancerName: 'fivetran', Type: 'network', AvailabilityZones: [{ ZoneName: 'eu-west-1a', SubnetId: 'subnet-a' }], ...overrides }],
  });

describe('db.max-connect-errors', () => {
  it("reads the instance's parameter group through every page", async () => {
    givenBilling();
    rdsMock
      .on(DescribeDBParametersCommand)
      .resolvesOnce({ Parameters: [{ ParameterName: 'max_allowed_packet', ParameterValue: '64M' }], Marker: 'page-2' })
      .resolvesOnce({ Parameters: [{ ParameterName: 'max_connect_errors', ParameterValue: '4294967295' }] });

    expect(await run(maxConnectErrors, mapping)).toEqual({ status: 'pass', message: 'max_connect_errors 4294967295 on billing: NLB health checks never reach it' });
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBParametersCommand, 2);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBParametersCommand, { DBParameterGroupName: 'billing-params', Marker: 'page-2' });
  });

  it('fails the engine default when the parameter group leaves it unset', async () => {
    givenBilling({ DBParameterGroups: [{ DBParameterGroupName: 'default.mysql8.0' }] });
    rdsMock.on(DescribeDBParametersCommand).resolves({ Parameters: [{ ParameterName: 'max_connect_errors', Source: 'engine-default' }] });

    const verdict = await run(maxConnectErrors, mapping);

    expect(verdict).toMatchObject({ status: 'fail', message: expect.stringContaining('max_connect_errors is 100 on billing (engine default)') });
    expect(verdict.fix).toContain('--db-parameter-group-family mysql8.0');
  });

  it("takes the cluster parameter group's value when the instance's leaves it unset", async () => {
    rdsMock.on(DescribeDBClustersCommand).resolves({
      DBClusters: [{ DBClusterIdentifier: 'orders', Engine: 'aurora-mysql', DBClusterParameterGroup: 'orders-cluster', DBClusterMembers: [{ DBInstanceIdentifier: 'orders-1', IsClusterWriter: true }] }],
    });
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'orders-1', DBClusterIdentifier: 'orders', Engine: 'aurora-mysql', DBParameterGroups: [{ DBParameterGroupName: 'default.aurora-mysql8.0' }] }],
    });
    rdsMock.on(DescribeDBParametersCommand).resolves({ Parameters: [] });
    rdsMock.on(DescribeDBClusterParametersCommand).resolves({ Parameters: [{ ParameterName: 'max_connect_errors', ParameterValue: '1000' }] });

    const verdict = await run(maxConnectErrors, { ...mapping, endpoint: ORDERS });

    expect(verdict).toMatchObject({ status: 'fail', message: expect.stringContaining('1000 on orders-1 (cluster parameter group orders-cluster)') });
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBClusterParametersCommand, { DBClusterParameterGroupName: 'orders-cluster' });
  });

  it('passes a PostgreSQL database without reading parameters', async () => {
    givenBilling({ Engine: 'postgres' });

    expect(await run(maxConnectErrors, mapping)).toEqual({ status: 'pass', message: 'DB instance billing runs postgres: max_connect_errors does not apply' });
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBParametersCommand, 0);
  });

  it('says what it could not check for a name that is not an RDS endpoint', async () => {
    expect(await run(maxConnectErrors, { ...mapping, endpoint: 'db.example.internal' })).toMatchObject({
      status: 'warn',
      message: 'not checked: db.example.internal is not an RDS endpoint name, so doctor cannot look up the database behind it',
    });
  });
});

describe('db.security-groups', () => {
  it("reads the database's and the NLB's groups and the NLB's subnets", async () => {
    givenBilling();
    givenLoadBalancer({ SecurityGroups: ['sg-nlb'] });
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-a', CidrBlock: '10.0.1.0/24', AvailabilityZone: 'eu-west-1a' }] });
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        { GroupId: 'sg-db', IpPermissions: [tcp(3306, fromCidr('10.0.1.0/24'))] },
        { GroupId: 'sg-nlb', IpPermissionsEgress: [tcp(3306, fromCidr('10.0.0.0/16'))] },
      ],
    });

    expect(await run(dbSecurityGroups, mapping)).toEqual({ status: 'pass', message: 'billing (security group sg-db) admits NLB fivetran on TCP 3306' });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSecurityGroupsCommand, { GroupIds: ['sg-db', 'sg-nlb'] });
  });

  it('fails when the database admits nothing from the NLB', async () => {
    givenBilling();
    givenLoadBalancer();
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-a', CidrBlock: '10.0.1.0/24', AvailabilityZone: 'eu-west-1a' }] });
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-db', IpPermissions: [] }] });

    expect(await run(dbSecurityGroups, mapping)).toMatchObject({ status: 'fail', fix: 'aws ec2 authorize-security-group-ingress --group-id sg-db --protocol tcp --port 3306 --cidr 10.0.1.0/24' });
  });
});

describe('nlb.security-group', () => {
  it('reads the listener ports and the rules only when enforcement is on', async () => {
    givenLoadBalancer({ SecurityGroups: ['sg-nlb'], EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: 'on' });
    elbMock.on(DescribeListenersCommand).resolves({ Listeners: [{ Port: 3306 }] });
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-nlb', IpPermissions: [] }] });

    expect(await run(nlbSecurityGroup, LB_ARN)).toMatchObject({ status: 'fail', message: expect.stringContaining('admits nothing on listener port 3306') });

    elbMock.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [{ LoadBalancerName: 'fivetran', SecurityGroups: ['sg-nlb'], EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: 'off' }] });
    elbMock.resetHistory();
    expect(await run(nlbSecurityGroup, LB_ARN)).toMatchObject({ status: 'pass' });
    expect(elbMock).toHaveReceivedCommandTimes(DescribeListenersCommand, 0);
  });
});

// The endpoint service and RDS calls doctor makes for a cluster: one each, however many checks read them.
describe('the RDS reads', () => {
  it('asks RDS once per cluster for the three checks that read it', async () => {
    rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ DBClusterIdentifier: 'orders', Engine: 'aurora-postgresql', DBClusterMembers: [] }] });
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    rdsMock.on(DescribeDBClusterEndpointsCommand).resolves({ DBClusterEndpoints: [] });
    const resolve = createResolver({ servers: [dns.address], timeoutMs: 300, tries: 1 });
    const reader = createDoctorReader({ elb, ec2, rds, lambda: new LambdaClient({ region: 'eu-west-1' }), cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }), resolve });

    await Promise.all([reader.dbTopology(ORDERS), reader.dbTopology(ORDERS), reader.dbTopology(ORDERS)]);

    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBClustersCommand, 1);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 1);
  });
});
