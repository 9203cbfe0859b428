// The CLI's process entry in the one-file build (`npm run build` -> dist/rds-nlb-sync.mjs).
// bin/rds-nlb-sync.mjs does the same from a checkout, through tsx.
import process from 'node:process';
import { main } from './main.js';

// The SDK's notice that its 2027 releases need Node 22 is for this repository's maintainers,
// not for an operator running a command. (Read when the first client is built, after this.)
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await main(process.argv.slice(2));
