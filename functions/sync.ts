// sync: keeps each NLB IP target group on its RDS endpoint's current addresses.
// Triggers: EventBridge schedule, RDS failover/maintenance events, manual invoke.
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { createCloudWatchClient, createElbClient, createRdsClient, createSsmClient } from '../lib/aws/clients.js';
import { readParameter } from '../lib/aws/parameters.js';
import { rdsLookup } from '../lib/aws/rds-source.js';
import { loadProbeConfig, loadSyncConfigFrom } from '../lib/config.js';
import { createResolver } from '../lib/dns.js';
import { RunFailedError } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';
import { MATCH_BUDGET_MS, parseSyncEvent, withEventMatch } from '../lib/sync/event.js';
import { DiscoveryCache, discoverMappings, discoveryFailures } from '../lib/sync/discovery.js';
import { createProbe } from '../lib/sync/probe.js';
import { ReadLedger } from '../lib/sync/reads.js';
import { listTaggedTargetGroups } from '../lib/aws/target-groups.js';
import { FINISH_MARGIN_MS, runSync, type SyncSummary } from '../lib/sync/run.js';

// Cold start: a bad setting fails here, with one message naming every bad key. The mappings come
// from SSM when SYNC_MAPPINGS_PARAMETER is set (top-level await: one read per cold start).
const config = await loadSyncConfigFrom(process.env, (name) => readParameter(createSsmClient(), name));
const logger = createLogger('rds-nlb-sync');
const rds = createRdsClient();
// The probe through the NLB (PROBE_*): skipped, with the reason on the summary line, outside the VPC.
const probe = createProbe(loadProbeConfig());
// Each group's last read, kept across warm invocations: settled groups beyond ELB's read budget wait their turn.
const deps = { elb: createElbClient(), cloudwatch: createCloudWatchClient(), rds, resolve: createResolver(config.dns), log: logger, probe, reads: new ReadLedger() };
const lookup = rdsLookup(rds);
// DISCOVER_TARGET_GROUPS: the last successful discovery, served while a listing fails (warm invocations).
const discovered = new DiscoveryCache();
const listGroups = (keys: string[]) => listTaggedTargetGroups(deps.elb, keys);

async function sync(event: unknown, context: Context): Promise<SyncSummary> {
  const deadline = Date.now() + context.getRemainingTimeInMillis();
  // An RDS event: which mappings it concerns (RDS reads where the source is an instance, a deployment
  // or a custom endpoint). Every mapping waits for it: the lookups run in parallel, bounded.
  const until = Math.min(Date.now() + MATCH_BUDGET_MS, deadline - FINISH_MARGIN_MS);
  // The tagged target groups join the mappings before anything else reads them (event matching included).
  const { config: serving, report } = await discoverMappings(config, listGroups, discovered);
  const matched = await withEventMatch(parseSyncEvent(event, serving), serving, lookup, until);
  const request = { ...matched, deadline, ...(report ? { discovery: report } : {}) };
  const summary = await runSync(serving, request, deps);
  if (summary.outcome === 'failed') {
    const failures = [
      ...summary.mappings.filter((m) => m.error).map((m) => `${m.endpoint}: ${m.error?.message}`),
      ...(report?.error ? [`discovery: ${report.error.message} (served the last discovery)`] : []),
      ...(report?.failures ?? []).map((f) => f.message),
    ];
    // Thrown so Lambda's Errors metric and the alarms see the failed run.
    // A tagged group that could not be served counts as a mapping (and a failed listing as one more).
    throw new RunFailedError(`sync failed for ${summary.failed} of ${summary.mappings.length + discoveryFailures(report)} mappings: ${failures.join('; ')}`);
  }
  return summary;
}

export const handler = middy(sync).use(injectLambdaContext(logger));
