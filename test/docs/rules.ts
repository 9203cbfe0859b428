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
  // Commands and options serverless.yml's own plugins add (deploy/*.cjs): osls accepts them too.
  const load = createRequire(import.meta.url);
  for (const file of ['../../deploy/parameter-guard.cjs', '../../deploy/preview.cjs']) {
    const Plugin = load(file) as new (serverless: object, options: object) => { commands: Record<string, PluginCommand> };
    addPluginCommands(serverlessCommands, new Plugin({}, {}).commands);
  }
  return {
    scripts: pkg.scripts,
    serverlessCommands,
    params: paramNames(readFileSync(new URL('serverless.yml', ROOT), 'utf8')),
    // `fivetran` has subcommands and flags of its own (cli/fivetran.ts).
    parseCli: (argv) => (argv[0] === 'fivetran' ? parseFivetranCommandLine(argv.slice(1)) : parseCommandLine(argv)),
  };
}

interface PluginCommand {
  options?: Record<string, { shortcut?: string }>;
  commands?: Record<string, PluginCommand>;
}

function addPluginCommands(into: Map<string, { flags: Set<string>; shortcuts: Set<string> }>, commands: Record<string, PluginCommand>, prefix = ''): void {
  for (const [name, command] of Object.entries(commands)) {
    const full = `${prefix}${name}`;
    const entry = into.get(full) ?? { flags: new Set<string>(), shortcuts: new Set<string>() };
    for (const [flag, option] of Object.entries(command.options ?? {})) {
      entry.flags.add(flag);
      if (option.shortcut) entry.shortcuts.add(option.shortcut);
    }
    into.set(full, entry);
    if (command.commands) addPluginCommands(into, command.commands, `${full} `);
  }
}
