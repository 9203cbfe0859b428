// SDK clients, created once per cold start, all from one client config: the adaptive retry
// strategy (the standard one, which retries throttling, timeouts and 5xx with exponential backoff
// and jitter and nothing else, plus a client-side rate limiter that slows this client's calls
// once the API throttles it: a fleet's run of 1,000 mappings backs off instead of spending its
// retries) and connection/request timeouts, so an API with no route never hangs a run.
// AWS_ENDPOINT_URL (SDK standard setting; AWS_ENDPOINT_URL_<SERVICE> per service) points them at
// an emulator in tests and `npm run local`.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { SSMClient } from '@aws-sdk/client-ssm';
import { loadAwsClientSettings, type AwsClientSettings } from '../config.js';

export const RETRY = { retryMode: 'adaptive', maxAttempts: 4 } as const;

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

/**
 * Where the failed call ran, which decides the advice: the functions reach AWS through the VPC
 * (NAT gateway or interface endpoints); the CLI from an operator's machine, where the usual
 * cause is a wrong region (its API host does not exist) or the machine's network.
 */
export type CallSite = 'lambda' | 'cli';

/** A call that never reached the API (no route, connect or request timeout) after the retries. */
export class AwsApiUnreachableError extends Error {
  override name = 'AwsApiUnreachableError';
  constructor(
    readonly api: AwsApi,
    cause: unknown,
    readonly site: CallSite = 'lambda',
    readonly region?: string,
  ) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(site === 'cli' ? cliAdvice(api, detail, cause, region) : lambdaAdvice(api, detail), { cause });
  }
}

const lambdaAdvice = (api: AwsApi, detail: string) =>
  `cannot reach the ${api} API (${detail}). A function in a VPC reaches AWS APIs only through a NAT gateway or an interface VPC endpoint ` +
  `(com.amazonaws.<region>.${api}): check the subnets' route to a NAT, or deploy with the createApiEndpoints parameter.`;

function cliAdvice(api: AwsApi, detail: string, cause: unknown, region: string | undefined): string {
  const where = region ? ` in region ${region}` : '';
  const noHost = causeCodes(cause).some((c) => c === 'ENOTFOUND' || c === 'EAI_AGAIN');
  const check = noHost
    ? `its host name does not resolve: check the region${region ? ` ("${region}" is not one AWS knows, or is mistyped)` : ''} (--region, AWS_REGION or your profile's region), then this machine's DNS`
    : "check the region (--region, AWS_REGION or your profile's region) and this machine's network: proxy (HTTPS_PROXY), VPN, firewall";
  return `cannot reach the ${api} API${where} from here (${detail}): ${check}.`;
}

function causeCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
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
 * names the API and what to check from where the call ran. Every client goes through here (the
 * one place for that rule).
 */
export function explainUnreachable<T extends { middlewareStack: { add: (...args: never[]) => void } }>(client: T, api: AwsApi, site: CallSite = 'lambda'): T {
  const stack = client.middlewareStack as unknown as {
    add(mw: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>, options: { step: 'initialize'; name: string }): void;
  };
  const region = (client as unknown as { config?: { region?: () => Promise<string> } }).config?.region;
  stack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (!isUnreachable(err)) throw err;
        throw new AwsApiUnreachableError(api, err, site, site === 'cli' ? await region?.().catch(() => undefined) : undefined);
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
