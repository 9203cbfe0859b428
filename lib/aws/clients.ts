// SDK clients, created once per cold start. The standard retry strategy retries throttling,
// timeouts and 5xx with exponential backoff and jitter; nothing else is retried.
// AWS_ENDPOINT_URL (SDK standard setting) points them at an emulator in tests and `npm run local`.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';

export const RETRY = { retryMode: 'standard', maxAttempts: 4 } as const;

export const createElbClient = () => new ElasticLoadBalancingV2Client({ ...RETRY });
export const createCloudWatchClient = () => new CloudWatchClient({ ...RETRY });
export const createEc2Client = () => new EC2Client({ ...RETRY });
export const createRdsClient = () => new RDSClient({ ...RETRY });
