// SDK clients for the CLI: the user's credentials and region from the standard SDK chain, or
// --region / --profile; the same retries, timeouts and unreachable-API message as the Lambdas
// (lib/aws/clients.ts).
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { SSMClient } from '@aws-sdk/client-ssm';
import { readParameter } from '../lib/aws/parameters.js';
import { clientConfig, explainUnreachable } from '../lib/aws/clients.js';
import { ConfigError, loadAwsClientSettings, type AwsClientSettings } from '../lib/config.js';
import type { Flags } from './options.js';

export interface AwsOptions {
  region?: string;
  profile?: string;
  /** AWS_CONNECT_TIMEOUT_MS / AWS_REQUEST_TIMEOUT_MS from the CLI's settings; else from process.env. */
  timeouts?: AwsClientSettings;
}

export interface CliClients {
  elb: ElasticLoadBalancingV2Client;
  ec2: EC2Client;
  cloudwatch: CloudWatchClient;
  lambda: LambdaClient;
  /** doctor reads the database behind each endpoint (zones, security groups, parameters). */
  rds: RDSClient;
  /** Closes the clients' connections, so the process can exit at once. */
  destroy(): void;
}

/** --region, --profile and the timeout settings, for every client the CLI creates. */
export function awsOptionsOf(flags: Flags, settings: Record<string, string | undefined>): AwsOptions {
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const region = str('region');
  const profile = str('profile');
  return { ...(region ? { region } : {}), ...(profile ? { profile } : {}), timeouts: loadAwsClientSettings(settings) };
}

/** One SSM parameter, with the operator's credentials (SYNC_MAPPINGS_PARAMETER). */
export async function readCliParameter(options: AwsOptions, name: string): Promise<string> {
  const { timeouts, ...aws } = options;
  const ssm = explainUnreachable(new SSMClient({ ...clientConfig(timeouts), ...aws }), 'ssm', 'cli');
  try {
    return await readParameter(ssm, name);
  } finally {
    ssm.destroy();
  }
}

export function createCliClients(options: AwsOptions): CliClients {
  const { timeouts, ...aws } = options;
  const config = { ...clientConfig(timeouts), ...aws };
  const clients = {
    elb: explainUnreachable(new ElasticLoadBalancingV2Client(config), 'elasticloadbalancing', 'cli'),
    ec2: explainUnreachable(new EC2Client(config), 'ec2', 'cli'),
    cloudwatch: explainUnreachable(new CloudWatchClient(config), 'monitoring', 'cli'),
    lambda: explainUnreachable(new LambdaClient(config), 'lambda', 'cli'),
    rds: explainUnreachable(new RDSClient(config), 'rds', 'cli'),
  };
  return { ...clients, destroy: () => Object.values(clients).forEach((c) => c.destroy()) };
}

/**
 * The client for Lambda Invoke alone (not idempotent: a request that reached Lambda runs the
 * function): a request timeout that covers the function's run, and no SDK retry (cli/invoke.ts
 * retries only what never reached Lambda).
 */
export function createInvokeClient(options: AwsOptions, requestTimeoutMs: number): LambdaClient {
  const { timeouts, ...aws } = options;
  const base = clientConfig(timeouts);
  return explainUnreachable(new LambdaClient({ ...base, maxAttempts: 1, requestHandler: { ...base.requestHandler, requestTimeout: requestTimeoutMs }, ...aws }), 'lambda', 'cli');
}

/** The region the SDK chain settled on; a missing one is a settings error, not an AWS failure. */
export async function regionOf(clients: CliClients): Promise<string> {
  try {
    return await clients.elb.config.region();
  } catch {
    throw new ConfigError('no AWS region: pass --region, or set AWS_REGION or a region in your AWS profile', ['AWS_REGION is not set']);
  }
}

/**
 * Resolves the credentials once before any command talks to AWS, so missing or broken ones end
 * the command with one line (cli/main.ts) instead of one SDK error per mapping or check.
 */
export async function checkCredentials(clients: CliClients): Promise<void> {
  await clients.elb.config.credentials();
}
