// Accepts Fivetran's PrivateLink connections: on a schedule, on the endpoint service's SNS
// connection notification, or by hand (`serverless invoke -f accept --data '{"dryRun":true}'`).
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { parseAcceptEvent } from '../lib/accept/event.js';
import { runAccept, type AcceptSummary } from '../lib/accept/run.js';
import { createCloudWatchClient, createEc2Client } from '../lib/aws/clients.js';
import { loadAcceptConfig } from '../lib/config.js';
import { RunFailedError } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';

// Cold start: a bad setting fails here, naming the variable, before any event is handled.
const config = loadAcceptConfig();
const logger = createLogger('rds-nlb-sync');
const deps = { ec2: createEc2Client(), cloudwatch: createCloudWatchClient(), log: logger };

async function accept(event: unknown, context: Context): Promise<AcceptSummary> {
  // Parsed first: an unknown payload is refused before any AWS call.
  const request = { ...parseAcceptEvent(event), deadline: Date.now() + context.getRemainingTimeInMillis() };
  const summary = await runAccept(config, request, deps);
  // Thrown after the summary is logged and the metrics sent, so Lambda's Errors metric fires.
  if (summary.outcome === 'failed') {
    throw new RunFailedError(`accept run failed with ${summary.totals.errors} error(s); see the "accept run" log line`);
  }
  return summary;
}

export const handler = middy(accept).use(injectLambdaContext(logger));
