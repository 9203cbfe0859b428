// One Lambda sandbox for the fleet bench (bench/cost.ts runFleetBench): a fresh node process that
// holds only the deployed bundle, so its peak memory is the function's, not the bench's. Driven over
// IPC: {load, env} sets the environment (sent this way: 1,000 mappings of SYNC_MAPPINGS exceed the
// 128 KB an environment string may have at spawn) and imports the handler; {invoke} runs one
// scheduled invocation and answers its wall time, its summary's outcome and reasons, and the
// process's memory: rss now and maxRSS (process.resourceUsage(), the peak over the whole life,
// what Lambda's "Max Memory Used" reports). Plain JS so that nothing but node runs.
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const [file, eventJson] = process.argv.slice(2);
const event = JSON.parse(eventJson);
let handler;

const context = () => {
  const deadline = Date.now() + 60_000;
  return {
    functionName: 'rds-nlb-sync-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:rds-nlb-sync-bench',
    memoryLimitInMB: '256',
    awsRequestId: `fleet-${Date.now()}`,
    logGroupName: '/aws/lambda/rds-nlb-sync-bench',
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
};

const memory = () => ({ rssBytes: process.memoryUsage.rss(), maxRssBytes: process.resourceUsage().maxRSS * 1024 });

process.on('message', async (msg) => {
  try {
    if (msg.type === 'load') {
      Object.assign(process.env, msg.env);
      ({ handler } = await import(pathToFileURL(file).href));
      process.send({ type: 'loaded', node: process.version, ...memory() });
    } else if (msg.type === 'invoke') {
      const started = performance.now();
      const summary = await handler(event, context());
      const ms = performance.now() - started;
      process.send({
        type: 'invoked',
        ms,
        outcome: summary.outcome,
        mappings: summary.mappings.length,
        reasons: [...new Set(summary.mappings.map((m) => m.reason))],
        ...memory(),
      });
    } else if (msg.type === 'exit') {
      process.exit(0);
    }
  } catch (err) {
    process.send({ type: 'error', error: String(err?.stack ?? err) });
  }
});
process.send({ type: 'ready' });
