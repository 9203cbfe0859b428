// One Lambda sandbox for the fleet bench (bench/cost.ts runFleetBench): a fresh node process that
// holds only the deployed bundle, so its peak memory is the function's, not the bench's. Driven over
// IPC: {load, env} sets the environment (sent this way: 1,000 mappings of SYNC_MAPPINGS exceed the
// 128 KB an environment string may have at spawn) and imports the handler; {invoke} runs one
// scheduled invocation (its Lambda deadline `timeoutMs` away, the deployed sync timeout) and answers
// its wall time, its summary's outcome, reasons and settled count (or, for a run that failed, how
// many mappings failed and their distinct errors, from the RunFailedError the handler throws), and
// the process's memory: rss now and maxRSS (process.resourceUsage(), the peak over the whole life,
// what Lambda's "Max Memory Used" reports). Plain JS so that nothing but node runs. The container's
// state lives on between invocations, as in a warm Lambda sandbox (the read ledger included).
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const [file, eventJson] = process.argv.slice(2);
const event = JSON.parse(eventJson);
let handler;

const context = (timeoutMs) => {
  const deadline = Date.now() + timeoutMs;
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
      let answer;
      try {
        const summary = await handler(event, context(msg.timeoutMs ?? 60_000));
        answer = {
          outcome: summary.outcome,
          mappings: summary.mappings.length,
          reasons: [...new Set(summary.mappings.map((m) => m.reason))],
          settled: summary.settled ?? 0,
          failed: summary.failed,
        };
      } catch (err) {
        // A failed run throws (so Lambda counts an error): "sync failed for N of M mappings: endpoint: message; ...".
        const failed = err?.name === 'RunFailedError' ? /sync failed for (\d+) of (\d+) mappings: (.*)$/s.exec(err.message) : null;
        if (!failed) throw err;
        // Each failure is "<endpoint>: <message>" (a message may hold "; " itself).
        const errors = [...new Set(failed[3].split(/; (?=[a-z0-9.-]+\.[a-z]{2,}: )/).map((f) => f.replace(/^[a-z0-9.-]+: /, '')))].slice(0, 5);
        answer = { outcome: 'failed', mappings: Number(failed[2]), reasons: ['error'], settled: 0, failed: Number(failed[1]), errors };
      }
      process.send({ type: 'invoked', ms: performance.now() - started, ...answer, ...memory() });
    } else if (msg.type === 'exit') {
      process.exit(0);
    }
  } catch (err) {
    process.send({ type: 'error', error: String(err?.stack ?? err) });
  }
});
process.send({ type: 'ready' });
