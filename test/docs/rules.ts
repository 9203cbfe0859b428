// The real rules the docs' commands are checked against: package.json's scripts, osls's own
// command schema, serverless.yml's custom.params and the CLI's parser.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseFivetranCommandLine } from '../../cli/fivetran.js';
import { parseCommandLine } from '../../cli/options.js';
import { paramNames, type Rules } from './check.js';

const ROOT = new URL('../../', import.meta.url);

interface SchemaCommand {
  options?: Record<string, { shortcut?: string }>;
}

export function loadRules(): Rules {
  const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { scripts: Record<string, string> };
  const schema = createRequire(import.meta.url)('osls/lib/cli/commands-schema') as Map<string, SchemaCommand>;
  const serverlessCommands = new Map(
    [...schema].map(([name, { options = {} }]) => [
      name,
      {
        flags: new Set(Object.keys(options)),
        shortcuts: new Set(Object.values(options).flatMap((o) => (o.shortcut ? [o.shortcut] : []))),
      },
    ]),
  );
  return {
    scripts: pkg.scripts,
    serverlessCommands,
    params: paramNames(readFileSync(new URL('serverless.yml', ROOT), 'utf8')),
    // `fivetran` has subcommands and flags of its own (cli/fivetran.ts).
    parseCli: (argv) => (argv[0] === 'fivetran' ? parseFivetranCommandLine(argv.slice(1)) : parseCommandLine(argv)),
  };
}
