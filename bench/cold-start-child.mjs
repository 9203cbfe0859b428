// One cold start, in a fresh node process: import the handler module, invoke it once, report the
// times (ms since this script started) as JSON on fd 3. Plain JS so that nothing but node runs.
// Usage: node cold-start-child.mjs <handler module> <event JSON>
import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const [file, eventJson] = process.argv.slice(2);
const context = {
  functionName: 'rds-nlb-sync-bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:rds-nlb-sync-bench',
  memoryLimitInMB: '256',
  awsRequestId: 'cold-start-1',
  logGroupName: '/aws/lambda/rds-nlb-sync-bench',
  logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60_000,
};

const bootMs = performance.now(); // node's own start-up, before this script ran
const start = performance.now();
let result;
try {
  const { handler } = await import(pathToFileURL(file).href);
  const imported = performance.now();
  await handler(JSON.parse(eventJson), context);
  const invoked = performance.now();
  result = { ok: true, bootMs, importMs: imported - start, invokeMs: invoked - imported };
} catch (err) {
  result = { ok: false, error: String(err?.stack ?? err) };
}
writeSync(3, JSON.stringify(result));
// Lambda freezes the sandbox here; the SDK's keep-alive sockets must not keep this process up.
process.exit(0);
