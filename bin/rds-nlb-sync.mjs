#!/usr/bin/env node
// `npx rds-nlb-sync <command>`: runs the TypeScript CLI (cli/main.ts) through tsx, a dev
// dependency, so there is no build step and no second copy of lib/. Needs a full `npm ci`
// (with dev dependencies) of this repository.
import process from 'node:process';

let tsImport;
try {
  ({ tsImport } = await import('tsx/esm/api'));
} catch {
  process.stderr.write('rds-nlb-sync: the CLI runs through tsx, a dev dependency: run `npm ci` (without --omit=dev) in the repository first.\n');
  process.exit(2);
}
// The SDK's notice that its 2027 releases need Node 22 is for this repository's maintainers,
// not for an operator running a command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await tsImport('../cli/main.ts', import.meta.url);
process.exitCode = await main(process.argv.slice(2));
