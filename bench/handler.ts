// Loads a built bundle's handler in this process, as a fresh Lambda sandbox would: the handler
// reads its configuration from the environment at import, so each load gets its own module
// instance (a distinct URL) with the environment given here.
import { pathToFileURL } from 'node:url';
import type { SyncSummary } from '../lib/sync/run.js';

export type Handler = (event: unknown, context: unknown) => Promise<SyncSummary>;

let instance = 0;

/** AWS settings for the SDK clients: every call goes to the fake AWS. Set once per process. */
export function pointSdkAt(endpoint: string): void {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // The summary line is not printed (stdout is the result table); writing it costs < 1 ms.
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
}

export const APP_KEYS = [
  'SYNC_MAPPINGS',
  'DISCOVER_TARGET_GROUPS',
  'RDS_ENDPOINT',
  'TARGET_GROUP_ARN',
  'TARGET_PORT',
  'DNS_SERVERS',
  'SYNC_CONCURRENCY',
  'FAILOVER_POLL_MS',
  'FAILOVER_WATCH_SECONDS',
  'SCHEDULE_INTERVAL_SECONDS',
  'TARGET_READS_PER_SECOND',
];

export async function loadHandler(file: string, env: Record<string, string>): Promise<Handler> {
  for (const key of APP_KEYS) delete process.env[key];
  Object.assign(process.env, env);
  const url = `${pathToFileURL(file).href}?instance=${++instance}`;
  const { handler } = (await import(url)) as { handler: Handler };
  return handler;
}

export function lambdaContext(timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName: 'rds-nlb-sync-bench',
    awsRequestId: `bench-${Date.now()}`,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

export const SCHEDULED_EVENT = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2025-01-01T00:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/rds-nlb-sync-bench'],
  detail: {},
};

/** Aurora's "failover started" (RDS-EVENT-0073), as EventBridge delivers it. */
export function rdsFailoverEvent(sourceIdentifier: string) {
  return {
    version: '0',
    id: '68f6e973-1a0c-d37b-f2f2-94a7f62ffd4e',
    'detail-type': 'RDS DB Cluster Event',
    source: 'aws.rds',
    account: '123456789012',
    time: '2025-01-01T00:00:00Z',
    region: 'eu-west-1',
    resources: [`arn:aws:rds:eu-west-1:123456789012:cluster:${sourceIdentifier}`],
    detail: {
      EventCategories: ['failover'],
      SourceType: 'CLUSTER',
      SourceArn: `arn:aws:rds:eu-west-1:123456789012:cluster:${sourceIdentifier}`,
      Date: '2025-01-01T00:00:00.000Z',
      Message: `Started cross AZ failover to DB instance: ${sourceIdentifier}-instance-2`,
      SourceIdentifier: sourceIdentifier,
      EventID: 'RDS-EVENT-0073',
    },
  };
}
