// SDK clients for the CLI: the user's credentials and region from the standard SDK chain, or
// --region / --profile; the same retry settings as the Lambdas (lib/aws/clients.ts).
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { RETRY } from '../lib/aws/clients.js';
import { ConfigError } from '../lib/config.js';

export interface AwsOptions {
  region?: string;
  profile?: string;
}

export interface CliClients {
  elb: ElasticLoadBalancingV2Client;
  ec2: EC2Client;
  cloudwatch: CloudWatchClient;
  lambda: LambdaClient;
  rds: RDSClient;
  /** Closes the clients' connections, so the process can exit at once. */
  destroy(): void;
}

export function createCliClients(options: AwsOptions): CliClients {
  const config = { ...RETRY, ...options };
  const clients = {
    elb: new ElasticLoadBalancingV2Client(config),
    ec2: new EC2Client(config),
    cloudwatch: new CloudWatchClient(config),
    lambda: new LambdaClient(config),
    rds: new RDSClient(config),
  };
  return { ...clients, destroy: () => Object.values(clients).forEach((c) => c.destroy()) };
}

/** The region the SDK chain settled on; a missing one is a settings error, not an AWS failure. */
export async function regionOf(clients: CliClients): Promise<string> {
  try {
    return await clients.elb.config.region();
  } catch {
    throw new ConfigError('no AWS region: pass --region, or set AWS_REGION or a region in your AWS profile', ['AWS_REGION is not set']);
  }
}
