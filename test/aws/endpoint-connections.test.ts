import {
  AcceptVpcEndpointConnectionsCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  EC2Client,
  RejectVpcEndpointConnectionsCommand,
  type EC2ClientConfig,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RETRY } from '../../lib/aws/clients.js';
import {
  acceptConnections,
  failAll,
  findServicesForLoadBalancers,
  listPendingConnections,
  rejectConnections,
} from '../../lib/aws/endpoint-connections.js';

const SERVICE = 'vpce-svc-0123456789abcdef0';
const FIVETRAN = '834469178297';
const LB = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/rds-nlb/0123456789abcdef';

// Mocked per instance, so the real client of the retry test below is left alone.
const ec2 = new EC2Client({ region: 'eu-west-1' });
const ec2Mock = mockClient(ec2);

beforeEach(() => ec2Mock.reset());

describe('listPendingConnections', () => {
  it('asks only for pendingAcceptance connections of the one service', async () => {
    ec2Mock.on(DescribeVpcEndpointConnectionsCommand).resolves({ VpcEndpointConnections: [] });

    await listPendingConnections(ec2, SERVICE);

    expect(ec2Mock).toHaveReceivedCommandWith(DescribeVpcEndpointConnectionsCommand, {
      Filters: [
        { Name: 'service-id', Values: [SERVICE] },
        { Name: 'vpc-endpoint-state', Values: ['pendingAcceptance'] },
      ],
    });
  });

  it('follows NextToken across pages', async () => {
    ec2Mock
      .on(DescribeVpcEndpointConnectionsCommand)
      .resolvesOnce({ VpcEndpointConnections: [conn('vpce-1', FIVETRAN)], NextToken: 'page-2' })
      .resolvesOnce({ VpcEndpointConnections: [conn('vpce-2', '111122223333')] });

    const pending = await listPendingConnections(ec2, SERVICE);

    expect(pending).toEqual([
      { serviceId: SERVICE, endpointId: 'vpce-1', owner: FIVETRAN },
      { serviceId: SERVICE, endpointId: 'vpce-2', owner: '111122223333' },
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeVpcEndpointConnectionsCommand, 2);
    expect(ec2Mock).toHaveReceivedNthCommandWith(DescribeVpcEndpointConnectionsCommand, 2, { NextToken: 'page-2' });
  });

  it('drops what the filters should have excluded: other services, other states, no endpoint ID', async () => {
    ec2Mock.on(DescribeVpcEndpointConnectionsCommand).resolves({
      VpcEndpointConnections: [
        conn('vpce-ok', FIVETRAN),
        { ...conn('vpce-other', FIVETRAN), ServiceId: 'vpce-svc-0fffffffffffffff0' },
        { ...conn('vpce-available', FIVETRAN), VpcEndpointState: 'Available' },
        { ServiceId: SERVICE, VpcEndpointOwner: FIVETRAN, VpcEndpointState: 'PendingAcceptance' },
      ],
    });

    const pending = await listPendingConnections(ec2, SERVICE);

    expect(pending.map((c) => c.endpointId)).toEqual(['vpce-ok']);
  });

  it('keeps a connection without an owner, owner unset, for the decision to leave', async () => {
    ec2Mock.on(DescribeVpcEndpointConnectionsCommand).resolves({ VpcEndpointConnections: [{ ...conn('vpce-1', FIVETRAN), VpcEndpointOwner: undefined }] });

    expect(await listPendingConnections(ec2, SERVICE)).toEqual([{ serviceId: SERVICE, endpointId: 'vpce-1' }]);
  });
});

describe('acceptConnections / rejectConnections', () => {
  it('accepts every endpoint of a service in one call', async () => {
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({ Unsuccessful: [] });

    const out = await acceptConnections(ec2, SERVICE, ['vpce-1', 'vpce-2']);

    expect(out).toEqual({ done: ['vpce-1', 'vpce-2'], failed: [] });
    expect(ec2Mock).toHaveReceivedCommandTimes(AcceptVpcEndpointConnectionsCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandWith(AcceptVpcEndpointConnectionsCommand, { ServiceId: SERVICE, VpcEndpointIds: ['vpce-1', 'vpce-2'] });
  });

  it('counts an endpoint listed in Unsuccessful as failed, not accepted', async () => {
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({
      Unsuccessful: [{ ResourceId: 'vpce-2', Error: { Code: 'InvalidVpcEndpoint.NotFound', Message: 'The Vpc Endpoint Id vpce-2 does not exist' } }],
    });

    const out = await acceptConnections(ec2, SERVICE, ['vpce-1', 'vpce-2']);

    expect(out.done).toEqual(['vpce-1']);
    expect(out.failed).toEqual([{ endpointId: 'vpce-2', code: 'InvalidVpcEndpoint.NotFound', message: 'The Vpc Endpoint Id vpce-2 does not exist' }]);
  });

  it('rejects in one call and reads its Unsuccessful list the same way', async () => {
    ec2Mock.on(RejectVpcEndpointConnectionsCommand).resolves({ Unsuccessful: [{ ResourceId: 'vpce-9' }] });

    const out = await rejectConnections(ec2, SERVICE, ['vpce-8', 'vpce-9']);

    expect(ec2Mock).toHaveReceivedCommandWith(RejectVpcEndpointConnectionsCommand, { ServiceId: SERVICE, VpcEndpointIds: ['vpce-8', 'vpce-9'] });
    expect(out).toEqual({ done: ['vpce-8'], failed: [{ endpointId: 'vpce-9', code: 'Unsuccessful', message: 'listed in Unsuccessful without a reason' }] });
  });

  it('counts every requested endpoint as failed when an Unsuccessful item names none of them', async () => {
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({
      Unsuccessful: [{ Error: { Code: 'InternalError', Message: 'try later' } }, { ResourceId: 'vpce-2', Error: { Code: 'Gone', Message: 'gone' } }],
    });

    const out = await acceptConnections(ec2, SERVICE, ['vpce-1', 'vpce-2']);

    expect(out).toEqual({
      done: [],
      failed: [
        { endpointId: 'vpce-1', code: 'InternalError', message: 'try later (EC2 listed a failure without naming which requested endpoint it was)' },
        { endpointId: 'vpce-2', code: 'Gone', message: 'gone' },
      ],
    });
  });

  it('turns a call that threw into one failure per endpoint', () => {
    const err = Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' });

    expect(failAll(['vpce-1', 'vpce-2'], err)).toEqual([
      { endpointId: 'vpce-1', code: 'UnauthorizedOperation', message: 'not authorized' },
      { endpointId: 'vpce-2', code: 'UnauthorizedOperation', message: 'not authorized' },
    ]);
  });
});

describe('findServicesForLoadBalancers', () => {
  it('matches services to load balancers across pages', async () => {
    const other = LB.replace('rds-nlb', 'other-nlb');
    ec2Mock
      .on(DescribeVpcEndpointServiceConfigurationsCommand)
      .resolvesOnce({ ServiceConfigurations: [{ ServiceId: 'vpce-svc-0aaaaaaaaaaaaaaa0', NetworkLoadBalancerArns: [other] }], NextToken: 'p2' })
      .resolvesOnce({ ServiceConfigurations: [{ ServiceId: SERVICE, NetworkLoadBalancerArns: [LB] }] });

    const found = await findServicesForLoadBalancers(ec2, [LB]);

    expect(found).toEqual(new Map([[LB, [SERVICE]]]));
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeVpcEndpointServiceConfigurationsCommand, 2);
    expect(ec2Mock).toHaveReceivedNthCommandWith(DescribeVpcEndpointServiceConfigurationsCommand, 2, { NextToken: 'p2' });
  });

  it('reports a load balancer no service uses with an empty list', async () => {
    ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({ ServiceConfigurations: [] });

    expect(await findServicesForLoadBalancers(ec2, [LB])).toEqual(new Map([[LB, []]]));
  });
});

// aws-sdk-client-mock replaces send(), so the SDK's retry middleware never runs under it. Here a
// real client, configured like production (lib/aws/clients.ts), talks to a fake HTTP handler instead.
describe('throttling', () => {
  afterEach(() => vi.restoreAllMocks());

  it('retries a throttled AcceptVpcEndpointConnections and succeeds', async () => {
    // Backoff is random * base; zero keeps the test fast without changing the retry decision.
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const bodies: string[] = [];
    const responses = [
      xml(400, '<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>1</RequestID></Response>'),
      xml(200, '<AcceptVpcEndpointConnectionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>2</requestId><unsuccessful/></AcceptVpcEndpointConnectionsResponse>'),
    ];
    const requestHandler = {
      handle: async (request: { body?: unknown }) => {
        bodies.push(String(request.body));
        const response = responses.shift();
        if (!response) throw new Error('unexpected extra request');
        return { response };
      },
    } as unknown as EC2ClientConfig['requestHandler'];
    const real = new EC2Client({ ...RETRY, region: 'eu-west-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, requestHandler });

    const out = await acceptConnections(real, SERVICE, ['vpce-1']);

    expect(out).toEqual({ done: ['vpce-1'], failed: [] });
    expect(bodies).toHaveLength(2);
    for (const body of bodies) expect(body).toContain('Action=AcceptVpcEndpointConnections');
  });
});

function conn(endpointId: string, owner: string) {
  return { ServiceId: SERVICE, VpcEndpointId: endpointId, VpcEndpointOwner: owner, VpcEndpointState: 'pendingAcceptance' as never };
}

function xml(statusCode: number, body: string) {
  return { statusCode, headers: { 'content-type': 'text/xml;charset=UTF-8' }, body: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`) };
}
