import { ElasticLoadBalancingV2Client, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { RETRY } from '../../lib/aws/clients.js';
import { deregisterTargets, describeTargets, registerTargets } from '../../lib/aws/targets.js';
import { TG_A } from '../fixtures.js';

const xml = (body: string) => body;
const THROTTLED = xml(
  '<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>',
);
const ACCESS_DENIED = xml(
  '<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized</Message></Error><RequestId>2</RequestId></ErrorResponse>',
);
const DEREGISTERED = xml(
  '<DeregisterTargetsResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DeregisterTargetsResult/><ResponseMetadata><RequestId>4</RequestId></ResponseMetadata></DeregisterTargetsResponse>',
);
const HEALTH = xml(
  '<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetHealthResult><TargetHealthDescriptions/></DescribeTargetHealthResult><ResponseMetadata><RequestId>5</RequestId></ResponseMetadata></DescribeTargetHealthResponse>',
);
const REGISTERED = xml(
  '<RegisterTargetsResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><RegisterTargetsResult/><ResponseMetadata><RequestId>3</RequestId></ResponseMetadata></RegisterTargetsResponse>',
);

/** A real client (so the SDK's retry strategy runs) over scripted HTTP responses. */
function scriptedClient(responses: { status: number; body: string }[]) {
  const requests: { body?: unknown }[] = [];
  const client = new ElasticLoadBalancingV2Client({
    ...RETRY,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        requests.push(request);
        const next = responses.shift() ?? { status: 500, body: '' };
        // Shaped like @smithy's HttpResponse, which the SDK duck-types.
        return { response: { statusCode: next.status, headers: { 'content-type': 'text/xml' }, body: Readable.from([next.body]) } };
      },
    },
  });
  return { client, requests };
}

describe('targets adapter', () => {
  it('retries a throttled RegisterTargets with the SDK retry strategy', async () => {
    const { client, requests } = scriptedClient([
      { status: 400, body: THROTTLED },
      { status: 200, body: REGISTERED },
    ]);

    await registerTargets(client, TG_A, ['10.0.2.9'], 5432);

    expect(requests).toHaveLength(2);
    expect(String(requests[1]?.body)).toContain('Action=RegisterTargets');
    expect(String(requests[1]?.body)).toContain('Targets.member.1.Id=10.0.2.9');
  });

  it('does not retry an error that is not retryable', async () => {
    const { client, requests } = scriptedClient([{ status: 403, body: ACCESS_DENIED }]);

    await expect(registerTargets(client, TG_A, ['10.0.2.9'], 5432)).rejects.toThrow('not authorized');
    expect(requests).toHaveLength(1);
  });

  // Rule 11: a deregister was decided on a read; a retry seconds later acts on an old one, and a
  // failed attempt (5xx, timeout) may have been carried out. The next run decides again instead.
  it.each([
    ['a 503 (the request may have been carried out)', { status: 503, body: '' }, /503|Unknown|UnknownError|ServiceUnavailable/],
    ['throttling', { status: 400, body: THROTTLED }, 'Rate exceeded'],
  ])('sends DeregisterTargets once, not retrying after %s', async (_, failure, message) => {
    const { client, requests } = scriptedClient([failure, { status: 200, body: DEREGISTERED }]);

    await expect(deregisterTargets(client, TG_A, [{ ip: '10.0.1.5', port: 5432, state: 'healthy' }])).rejects.toThrow(message);
    expect(requests).toHaveLength(1);
    expect(String(requests[0]?.body)).toContain('Action=DeregisterTargets');
  });

  it('deregisters in one request when it succeeds, and the same client still retries its reads', async () => {
    const { client, requests } = scriptedClient([
      { status: 200, body: DEREGISTERED },
      { status: 503, body: '' },
      { status: 200, body: HEALTH },
    ]);

    await deregisterTargets(client, TG_A, [{ ip: '10.0.1.5', port: 5432, state: 'healthy', availabilityZone: 'all' }]);
    await describeTargets(client, TG_A);

    expect(requests).toHaveLength(3);
    expect(String(requests[0]?.body)).toContain('Targets.member.1.AvailabilityZone=all');
    expect(String(requests[2]?.body)).toContain('Action=DescribeTargetHealth');
  });

  describe('describeTargets', () => {
    // Mock one instance only: mocking the class would also capture the scripted clients above.
    const elb = new ElasticLoadBalancingV2Client({});
    const elbMock = mockClient(elb);
    afterEach(() => elbMock.reset());

    it('maps target health, keeping the AZ a target was registered with and why it is unhealthy', async () => {
      elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_A }).resolves({
        TargetHealthDescriptions: [
          { Target: { Id: '10.0.1.5', Port: 5432 }, TargetHealth: { State: 'healthy' } },
          { Target: { Id: '10.0.1.7', Port: 5432 }, TargetHealth: { State: 'unhealthy', Reason: 'Target.Timeout', Description: 'Request timed out' } },
          { Target: { Id: '172.16.0.5', Port: 5432, AvailabilityZone: 'all' }, TargetHealth: { State: 'draining' } },
          { Target: { Id: '10.0.1.6', Port: 5432 } },
          { Target: { Port: 5432 } as unknown as { Id: string } }, // malformed: skipped
        ],
      });

      expect(await describeTargets(elb, TG_A)).toEqual([
        { ip: '10.0.1.5', port: 5432, state: 'healthy' },
        { ip: '10.0.1.7', port: 5432, state: 'unhealthy', reason: 'Target.Timeout', description: 'Request timed out' },
        { ip: '172.16.0.5', port: 5432, state: 'draining', availabilityZone: 'all' },
        { ip: '10.0.1.6', port: 5432, state: 'unavailable' },
      ]);
    });

    it('sends nothing when there is nothing to register', async () => {
      await registerTargets(elb, TG_A, [], 5432);
      expect(elbMock.calls()).toHaveLength(0);
    });
  });
});
