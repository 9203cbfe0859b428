// The real SDK clients against a local server that accepts TCP and never answers: the timeouts
// end every attempt, the standard strategy retries them, and the last failure names the API.
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeVpcEndpointConnectionsCommand } from '@aws-sdk/client-ec2';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AwsApiUnreachableError, clientConfig, createEc2Client, createElbClient, isUnreachable } from '../../lib/aws/clients.js';
import { startSilentServer, type SilentServer } from '../harness/silent-server.js';
import { TG_A } from '../fixtures.js';

const FAST = { connectTimeoutMs: 200, requestTimeoutMs: 200 };

describe('SDK clients', () => {
  let silent: SilentServer;
  beforeAll(async () => {
    silent = await startSilentServer();
  });
  afterAll(() => silent.close());
  afterEach(() => vi.unstubAllEnvs());

  it('gives every client the retry strategy and both timeouts from the settings', () => {
    expect(clientConfig({ connectTimeoutMs: 3000, requestTimeoutMs: 5000 })).toEqual({
      retryMode: 'adaptive',
      maxAttempts: 4,
      requestHandler: { connectionTimeout: 3000, requestTimeout: 5000, throwOnRequestTimeout: true },
    });
  });

  it('builds the adaptive strategy, whose rate limiter slows a throttled client, with 4 attempts', async () => {
    const strategy = await createElbClient(FAST).config.retryStrategy();
    expect(strategy.constructor.name).toBe('AdaptiveRetryStrategy');
    expect(await (strategy as unknown as { maxAttemptsProvider: () => Promise<number> }).maxAttemptsProvider()).toBe(4);
  });

  it('reads the timeouts from AWS_CONNECT_TIMEOUT_MS and AWS_REQUEST_TIMEOUT_MS by default', () => {
    vi.stubEnv('AWS_CONNECT_TIMEOUT_MS', '1500');
    vi.stubEnv('AWS_REQUEST_TIMEOUT_MS', '2500');
    expect(clientConfig().requestHandler).toEqual({ connectionTimeout: 1500, requestTimeout: 2500, throwOnRequestTimeout: true });
  });

  it('ends a call to an API that never answers within the retries and names the API and what to check', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2', silent.url);
    const elb = createElbClient(FAST);
    const before = silent.connections();
    const started = Date.now();

    const call = elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG_A }));

    await expect(call).rejects.toThrow(AwsApiUnreachableError);
    await expect(call).rejects.toThrow(/^cannot reach the elasticloadbalancing API .*NAT gateway.*createApiEndpoints/);
    // 4 attempts of 200 ms plus the standard strategy's backoff: seconds, not the Lambda timeout.
    expect(Date.now() - started).toBeLessThan(8000);
    expect(silent.connections() - before).toBe(4);
  });

  it('names EC2 for an EC2 call', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_EC2', silent.url);
    const ec2 = createEc2Client({ ...FAST });
    await expect(ec2.send(new DescribeVpcEndpointConnectionsCommand({}))).rejects.toMatchObject({
      name: 'AwsApiUnreachableError',
      api: 'ec2',
      message: expect.stringContaining('com.amazonaws.<region>.ec2'),
    });
  });

  it('leaves an answer from the API (AccessDenied, throttling) as it is', () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(isUnreachable(denied)).toBe(false);
    expect(isUnreachable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
  });
});
