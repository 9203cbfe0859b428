// The harness's EC2 front for VPC endpoint connections, seen through the real SDK client: the
// shapes, filters, pages and Unsuccessful items the accept code and the CLI rely on.
import {
  AcceptVpcEndpointConnectionsCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  EC2Client,
  paginateDescribeVpcEndpointConnections,
  RejectVpcEndpointConnectionsCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { emulatorClientConfig, motoOrSkip, startEmulators, type Emulators } from './index.js';

const FIVETRAN = '834469178297';
const STRANGER = '111122223333';

describe.skipIf(!motoOrSkip())('emulated VPC endpoint connections', () => {
  let emulators: Emulators;
  let ec2: EC2Client;
  let serviceId: string;

  beforeAll(async () => {
    emulators = await startEmulators();
    ec2 = new EC2Client(emulatorClientConfig(emulators.connections.endpoint));
    serviceId = emulators.aws.serviceId;
  });
  afterAll(async () => {
    ec2?.destroy();
    await emulators?.stop();
  });
  beforeEach(() => emulators.connections.reset());

  const create = (owner: string) => emulators.connections.createConsumerEndpoint({ serviceId, owner });
  const describeAll = async (Filters: { Name: string; Values: string[] }[], pageSize?: number) => {
    const found = [];
    for await (const page of paginateDescribeVpcEndpointConnections({ client: ec2, ...(pageSize ? { pageSize } : {}) }, { Filters })) found.push(...(page.VpcEndpointConnections ?? []));
    return found;
  };

  it('lists a new consumer endpoint as pendingAcceptance with the fields EC2 returns', async () => {
    const id = await create(FIVETRAN);

    const { VpcEndpointConnections = [], NextToken } = await ec2.send(new DescribeVpcEndpointConnectionsCommand({}));

    expect(NextToken).toBeUndefined();
    expect(VpcEndpointConnections).toEqual([
      expect.objectContaining({ ServiceId: serviceId, VpcEndpointId: id, VpcEndpointOwner: FIVETRAN, VpcEndpointState: 'pendingAcceptance', NetworkLoadBalancerArns: [emulators.aws.loadBalancerArn], CreationTimestamp: expect.any(Date) }),
    ]);
  });

  it('filters by service, owner, endpoint and state', async () => {
    const fivetran = await create(FIVETRAN);
    const stranger = await create(STRANGER);

    expect((await describeAll([{ Name: 'vpc-endpoint-owner', Values: [STRANGER] }])).map((c) => c.VpcEndpointId)).toEqual([stranger]);
    expect((await describeAll([{ Name: 'vpc-endpoint-id', Values: [fivetran] }])).map((c) => c.VpcEndpointId)).toEqual([fivetran]);
    expect(await describeAll([{ Name: 'service-id', Values: ['vpce-svc-0ffffffffffffffff'] }])).toEqual([]);
    expect(await describeAll([{ Name: 'vpc-endpoint-state', Values: ['available'] }])).toEqual([]);
  });

  it('pages with MaxResults and NextToken, and refuses MaxResults under 5, a foreign token and an unknown filter', async () => {
    for (let i = 0; i < 7; i++) await create(FIVETRAN);

    expect(await describeAll([], 5)).toHaveLength(7);
    await expect(ec2.send(new DescribeVpcEndpointConnectionsCommand({ MaxResults: 2 }))).rejects.toThrow(/between 5 and 1000/);
    await expect(ec2.send(new DescribeVpcEndpointConnectionsCommand({ NextToken: 'made-up' }))).rejects.toMatchObject({ name: 'InvalidPaginationToken' });
    await expect(ec2.send(new DescribeVpcEndpointConnectionsCommand({ Filters: [{ Name: 'owner', Values: ['x'] }] }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('accepts (pending, then available) and rejects; lists unknown or no-longer-pending endpoints as Unsuccessful', async () => {
    const a = await create(FIVETRAN);
    const b = await create(STRANGER);

    const accepted = await ec2.send(new AcceptVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: [a, 'vpce-0000000000000000f'] }));
    const rejected = await ec2.send(new RejectVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: [b] }));
    const again = await ec2.send(new AcceptVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: [a] }));

    expect(accepted.Unsuccessful).toEqual([{ ResourceId: 'vpce-0000000000000000f', Error: { Code: 'InvalidVpcEndpointId.NotFound', Message: expect.any(String) } }]);
    expect(rejected.Unsuccessful ?? []).toEqual([]);
    expect(again.Unsuccessful).toEqual([{ ResourceId: a, Error: { Code: 'InvalidState', Message: expect.stringContaining('available') } }]);
    expect(emulators.connections.state(a)).toBe('available');
    expect(emulators.connections.state(b)).toBe('rejected');
  });

  it('passes every other EC2 action through to moto', async () => {
    const { ServiceConfigurations = [] } = await ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({}));
    expect(ServiceConfigurations.map((s) => s.ServiceId)).toContain(serviceId);
  });
});
