// `rds-nlb-sync sync` (invoking the deployed function) against a local HTTP server that answers
// like Lambda's Invoke and GetFunctionConfiguration: Invoke is not idempotent, so a slow run is
// waited for (not sent again), and only a request that never reached Lambda is retried.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInvokeClient } from '../../cli/clients.js';
import { INVOKE_MARGIN_MS, invokeNotSent, invokeSync, InvokeFailedError, summaryFromLogTail } from '../../cli/invoke.js';
import { main, type CliIo } from '../../cli/main.js';
import { AwsApiUnreachableError } from '../../lib/aws/clients.js';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ORDERS, TG_A } from '../fixtures.js';

const SUMMARY = { trigger: 'manual', outcome: 'success', dryRun: false, force: false, durationMs: 600, failed: 0, metricsSent: true, mappings: [{ endpoint: ORDERS, targetGroupArn: TG_A, port: 5432, resolved: ['10.0.2.9'], registered: ['10.0.2.9'], healthy: 1, added: [], removed: [], durationMs: 590 }] };
const FAILED = { ...SUMMARY, outcome: 'failed', failed: 1, metricsSent: undefined, mappings: [{ ...SUMMARY.mappings[0], resolved: null, error: { name: 'DnsTimeoutError', message: 'DNS timeout for orders' } }] };

interface FakeLambda {
  url: string;
  invocations: number;
  /** How long a run takes before the answer. */
  runMs: number;
  /** The function's timeout in seconds, as GetFunctionConfiguration answers it. */
  timeoutSeconds: number;
  answer: { status?: number; headers?: Record<string, string>; body: unknown };
  close(): Promise<void>;
}

async function startFakeLambda(): Promise<FakeLambda> {
  const fake: FakeLambda = { url: '', invocations: 0, runMs: 0, timeoutSeconds: 1, answer: { body: SUMMARY }, close: async () => undefined };
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.method === 'GET' && /\/configuration$/.test(req.url ?? '')) return send(res, 200, { FunctionName: 'f', Timeout: fake.timeoutSeconds });
    if (req.method === 'POST' && /\/invocations$/.test(req.url ?? '')) {
      fake.invocations++;
      const timer = setTimeout(() => send(res, fake.answer.status ?? 200, fake.answer.body, fake.answer.headers), fake.runMs);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    send(res, 404, { message: 'no route' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return fake;
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { env, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), color: false };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const logTail = (...lines: string[]) => Buffer.from(lines.join('\n')).toString('base64');

describe('sync through the deployed function, over HTTP', () => {
  let lambda: FakeLambda;
  beforeAll(async () => {
    lambda = await startFakeLambda();
  });
  afterAll(() => lambda.close());
  beforeEach(() => {
    vi.stubEnv('AWS_ENDPOINT_URL_LAMBDA', lambda.url);
    Object.assign(lambda, { invocations: 0, runMs: 0, timeoutSeconds: 1, answer: { body: SUMMARY } });
  });
  afterEach(() => vi.unstubAllEnvs());

  it('waits for a run longer than the request timeout, and invokes the function once', async () => {
    // The shared AWS request timeout (here 200 ms) is shorter than the run (600 ms).
    lambda.runMs = 600;

    const { code, stdout } = await cli(['sync', '--stage', 'prod'], { AWS_REGION: 'eu-west-1', AWS_REQUEST_TIMEOUT_MS: '200' });

    expect(code).toBe(0);
    expect(stdout).toContain('sync succeeded: 1 mapping, 0 added, 0 removed, 0 failed');
    expect(lambda.invocations).toBe(1);
  });

  it('prints a failed run\'s summary from its log tail, with the error, in text and --json', async () => {
    const line = JSON.stringify({ level: 'INFO', message: 'sync run', service: 'rds-nlb-sync', ...FAILED });
    lambda.answer = {
      headers: { 'x-amz-function-error': 'Unhandled', 'x-amz-log-result': logTail('START RequestId: 1', line, 'END RequestId: 1') },
      body: { errorType: 'RunFailedError', errorMessage: 'sync failed for 1 of 1 mappings: orders: DNS timeout' },
    };

    const json = await cli(['sync', '--stage', 'prod', '--json'], { AWS_REGION: 'eu-west-1' });
    const text = await cli(['sync', '--stage', 'prod'], { AWS_REGION: 'eu-west-1' });

    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      functionName: 'rds-nlb-sync-prod-sync',
      outcome: 'failed',
      failed: 1,
      mappings: [{ endpoint: ORDERS, error: { name: 'DnsTimeoutError' } }],
      error: { name: 'RunFailedError', message: 'sync failed for 1 of 1 mappings: orders: DNS timeout' },
    });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('error: DNS timeout for orders');
    expect(text.stdout).toContain('sync FAILED: 1 mapping, 0 added, 0 removed, 1 failed');
    expect(text.stdout).toContain('rds-nlb-sync-prod-sync failed: RunFailedError: sync failed for 1 of 1 mappings');
    expect(text.stdout).not.toContain('metrics were not sent');
  });

  it('gives Invoke the function\'s timeout plus a margin, and never sends it twice when no answer comes', async () => {
    lambda.runMs = 60_000;
    const lambdaClient = new LambdaClient({ region: 'eu-west-1' });
    const timeouts: number[] = [];

    const call = invokeSync('f', {}, {
      lambda: lambdaClient,
      // The timeout asked for is recorded; the client gets 300 ms so the test stays short.
      invokeClient: (ms) => (timeouts.push(ms), createInvokeClient({ region: 'eu-west-1' }, 300)),
      sleep: async () => undefined,
    });

    await expect(call).rejects.toThrow(InvokeFailedError);
    await expect(call).rejects.toThrow(/sent no answer .*Not invoked again, so nothing ran twice/);
    expect(timeouts).toEqual([1000 + INVOKE_MARGIN_MS]);
    expect(lambda.invocations).toBe(1);
    lambdaClient.destroy();
  });
});

describe('Invoke retries only what never reached Lambda', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('retries a refused connection, then names the region and network, not a NAT gateway', async () => {
    // A port nobody listens on: the request never left this machine.
    const closed = await startFakeLambda();
    await closed.close();
    vi.stubEnv('AWS_ENDPOINT_URL_LAMBDA', closed.url);
    const waits: number[] = [];
    const lambdaClient = new LambdaClient({ region: 'eu-west-1' });
    const ok = { send: async () => ({ Timeout: 1 }) } as unknown as LambdaClient;

    const call = invokeSync('f', {}, { lambda: ok, invokeClient: (ms) => createInvokeClient({ region: 'xx-fake-1' }, ms), sleep: async (ms) => void waits.push(ms) });

    await expect(call).rejects.toThrow(AwsApiUnreachableError);
    await expect(call).rejects.toThrow(/^cannot reach the lambda API in region xx-fake-1 from here .*check the region/);
    await expect(call).rejects.not.toThrow(/NAT/);
    expect(waits).toEqual([1000, 2000]);
    lambdaClient.destroy();
  });

  it('from the CLI, says the region or network is wrong, not the Lambda advice about NAT gateways', async () => {
    const closed = await startFakeLambda();
    await closed.close();
    vi.stubEnv('AWS_ENDPOINT_URL_LAMBDA', closed.url);

    const { code, stderr } = await cli(['sync', '--stage', 'prod', '--region', 'xx-fake-1']);
    const noHost = new AwsApiUnreachableError('ec2', Object.assign(new Error('getaddrinfo ENOTFOUND ec2.xx-fake-1.amazonaws.com'), { code: 'ENOTFOUND' }), 'cli', 'xx-fake-1');

    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot reach the lambda API in region xx-fake-1 from here .*check the region \(--region, AWS_REGION or your profile's region\)/);
    expect(stderr).not.toMatch(/NAT|createApiEndpoints/);
    expect(noHost.message).toContain('its host name does not resolve: check the region ("xx-fake-1" is not one AWS knows, or is mistyped)');
  });

  it('tells a request that never left (refused, no DNS, no connection, throttled) from one that may have run', () => {
    const err = (name: string, props: Record<string, unknown> = {}, message = '') => Object.assign(new Error(message), { name, ...props });
    expect(invokeNotSent(err('Error', { code: 'ECONNREFUSED' }))).toBe(true);
    expect(invokeNotSent(err('Error', { code: 'ENOTFOUND' }))).toBe(true);
    expect(invokeNotSent(err('TimeoutError', {}, 'the request socket did not establish a connection with the server within the configured timeout of 3000 ms.'))).toBe(true);
    expect(invokeNotSent(err('TooManyRequestsException'))).toBe(true);
    expect(invokeNotSent(new AwsApiUnreachableError('lambda', err('Error', { code: 'ECONNREFUSED' }), 'cli'))).toBe(true);
    // Sent: the function may be running or have run.
    expect(invokeNotSent(err('TimeoutError', { code: 'ETIMEDOUT' }, 'a request has exceeded the configured 5000 ms requestTimeout.'))).toBe(false);
    expect(invokeNotSent(err('Error', { code: 'ECONNRESET' }))).toBe(false);
    expect(invokeNotSent(err('ServiceException'))).toBe(false);
  });

  it('reads the summary line from a log tail, and nothing from a tail without it', () => {
    const line = `2026-12-07T02:00:00.000Z\t1\tINFO\t${JSON.stringify({ message: 'sync run', ...FAILED })}`;
    expect(summaryFromLogTail(logTail('START', line, 'END'))).toMatchObject({ outcome: 'failed', failed: 1, metricsSent: false });
    expect(summaryFromLogTail(logTail('START', '{"message":"other"}', '{cut'))).toBeUndefined();
    expect(summaryFromLogTail(undefined)).toBeUndefined();
  });
});
