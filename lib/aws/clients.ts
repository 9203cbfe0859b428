// SDK clients, created once per cold start, all from one client config: the standard retry
// strategy (retries throttling, timeouts and 5xx with exponential backoff and jitter; nothing
// else) and connection/request timeouts, so an API with no route never hangs a run.
// AWS_ENDPOINT_URL (SDK standard setting; AWS_ENDPOINT_URL_<SERVICE> per service) points them at
// an emulator in tests and `npm run local`.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { SSMClient } from '@aws-sdk/client-ssm';
import { loadAwsClientSettings, type AwsClientSettings } from '../config.js';

export const RETRY = { retryMode: 'standard', maxAttempts: 4 } as const;

/** The config every client gets (Lambda and CLI): retries and timeouts. */
export function clientConfig(settings: AwsClientSettings = loadAwsClientSettings()) {
  return {
    ...RETRY,
    // The SDK builds its NodeHttpHandler from these options (one per client). Without
    // throwOnRequestTimeout, @smithy/node-http-handler 4.x only logs a WARN when requestTimeout passes
    // and keeps waiting: the call would still hang.
    requestHandler: { connectionTimeout: settings.connectTimeoutMs, requestTimeout: settings.requestTimeoutMs, throwOnRequestTimeout: true },
  };
}

/** The API's endpoint prefix (<prefix>.<region>.amazonaws.com): the interface VPC endpoint to create. */
export type AwsApi = 'elasticloadbalancing' | 'ec2' | 'monitoring' | 'rds' | 'ssm' | 'lambda';

/** A call that never reached the API (no route, connect or request timeout) after the retries. */
export class AwsApiUnreachableError extends Error {
  override name = 'AwsApiUnreachableError';
  constructor(
    readonly api: AwsApi,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      `cannot reach the ${api} API (${detail}). A function in a VPC reaches AWS APIs only through a NAT gateway or an interface VPC endpoint ` +
        `(com.amazonaws.<region>.${api}): check the subnets' route to a NAT, or deploy with the createApiEndpoints parameter.`,
      { cause },
    );
  }
}

// What node and the SDK's http handler throw when nothing answered: no route, refused, reset, timed out.
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

export function isUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return err.name === 'TimeoutError' || (typeof code === 'string' && UNREACHABLE_CODES.has(code));
}

/**
 * Rewrites an unreachable-API failure, after the retries, into an AwsApiUnreachableError that
 * names the API and what to check. Every client goes through here (the one place for that rule).
 */
export function explainUnreachable<T extends { middlewareStack: { add: (...args: never[]) => void } }>(client: T, api: AwsApi): T {
  const stack = client.middlewareStack as unknown as {
    add(mw: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>, options: { step: 'initialize'; name: string }): void;
  };
  stack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        throw isUnreachable(err) ? new AwsApiUnreachableError(api, err) : err;
      }
    },
    // initialize wraps the whole retry loop: only the last attempt's failure is rewritten.
    { step: 'initialize', name: 'explainUnreachableApi' },
  );
  return client;
}

export const createElbClient = (settings?: AwsClientSettings) =>
  explainUnreachable(new ElasticLoadBalancingV2Client(clientConfig(settings)), 'elasticloadbalancing');
export const createCloudWatchClient = (settings?: AwsClientSettings) => explainUnreachable(new CloudWatchClient(clientConfig(settings)), 'monitoring');
export const createEc2Client = (settings?: AwsClientSettings) => explainUnreachable(new EC2Client(clientConfig(settings)), 'ec2');
export const createRdsClient = (settings?: AwsClientSettings) => explainUnreachable(new RDSClient(clientConfig(settings)), 'rds');
export const createSsmClient = (settings?: AwsClientSettings) => explainUnreachable(new SSMClient(clientConfig(settings)), 'ssm');
