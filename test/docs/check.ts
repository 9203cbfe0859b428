// The docs' fenced blocks, and the static checks of their commands (docs/README.md lists the
// fences). Pure: the caller gives the rules (npm scripts, serverless's commands and flags,
// serverless.yml's params, the CLI's parser), so a unit test can feed it broken examples.

export interface Block {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  runnable: boolean;
  /** Exit code a runnable block's commands must end with (`exit=N`; default 0). */
  exit: number;
  /** `file=<name>`: written to the scratch directory before the page's runnable blocks run. */
  writeTo?: string;
  text: string;
}

const FENCE = /^( *)(```+)(.*)$/;

export function extractBlocks(markdown: string, file: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (!open) continue;
    const [, indent = '', ticks = '', info = ''] = open;
    const [lang = '', ...words] = info.trim().split(/\s+/);
    const attrs = Object.fromEntries(words.map((w) => (w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, 'true'])));
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      if (line.trim() === ticks) break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line);
    }
    if (j === lines.length) throw new Error(`${file}:${i + 1}: code block never closed`);
    blocks.push({
      file,
      line: i + 1,
      lang,
      runnable: attrs.runnable === 'true',
      exit: attrs.exit === undefined ? 0 : Number(attrs.exit),
      ...(attrs.file ? { writeTo: attrs.file } : {}),
      text: body.join('\n'),
    });
    i = j;
  }
  return blocks;
}

export interface Command {
  /** 1-based line in the file where the command starts. */
  line: number;
  /** The command as a shell would run it (continuations joined, the trailing comment dropped). */
  source: string;
  argv: string[];
}

/** Shell commands of an `sh` block: `\` continues a line, `#` starts a comment, quotes group. */
export function commandsOf(block: Block): Command[] {
  const commands: Command[] = [];
  let pending = '';
  let start = 0;
  block.text.split('\n').forEach((raw, index) => {
    if (pending === '') start = block.line + 1 + index;
    if (raw.endsWith('\\')) {
      pending += `${raw.slice(0, -1)} `;
      return;
    }
    const { source, argv } = splitWords(pending + raw);
    pending = '';
    if (argv.length > 0) commands.push({ line: start, source, argv });
  });
  return commands;
}

/** Splits like a POSIX shell for the subset docs use: quotes, backslash escapes, comments. */
export function splitWords(line: string): { source: string; argv: string[] } {
  const argv: string[] = [];
  let word: string | null = null;
  let quote: "'" | '"' | null = null;
  let end = line.length;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i] as string;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + (line[++i] as string);
    } else if (/\s/.test(c)) {
      if (word !== null) argv.push(word);
      word = null;
    } else if (c === '#' && word === null) {
      end = i;
      break;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} in: ${line}`);
  if (word !== null) argv.push(word);
  return { source: line.slice(0, end).trim(), argv };
}

export interface Rules {
  /** package.json's scripts. */
  scripts: Record<string, string>;
  /** osls's commands ('invoke', 'invoke local', ...) and each one's long flags and shortcuts. */
  serverlessCommands: ReadonlyMap<string, { flags: ReadonlySet<string>; shortcuts: ReadonlySet<string> }>;
  /** serverless.yml's custom.params names, the only valid --param names. */
  params: ReadonlySet<string>;
  /** The CLI's parser: throws on a command line it would refuse. */
  parseCli: (argv: string[]) => unknown;
}

const PLACEHOLDER = /…|^\.\.\.$|^<[^>]*>$/;

/** What is wrong with a command that is shown but not run; [] when nothing is. */
export function checkCommand(argv: string[], rules: Rules): string[] {
  const placeholders = argv.filter((a) => PLACEHOLDER.test(a));
  if (placeholders.length > 0) return [`placeholder ${placeholders.join(' ')} fails when copied: write a value that parses`];
  const [program, ...args] = argv;
  if (program === 'npm') return checkNpm(args, rules);
  if (program === 'npx' && args[0] === 'serverless') return checkServerless(args.slice(1), rules);
  if (program === 'npx' && args[0] === 'rds-nlb-sync') return checkCli(args.slice(1), rules);
  if (program === 'node' && args[0] === 'dist/rds-nlb-sync.mjs') return checkCli(args.slice(1), rules);
  // Shell built-ins the walkthroughs use to set the CLI's environment.
  if (program === 'export') {
    const bad = args.filter((a) => !/^[A-Za-z_][A-Za-z0-9_]*(=.*)?$/.test(a));
    return args.length > 0 && bad.length === 0 ? [] : [`export takes NAME=value or NAME words, not ${bad.map((a) => `"${a}"`).join(', ')}`];
  }
  if (program === 'read') return /^[A-Za-z_][A-Za-z0-9_]*$/.test(args.at(-1) ?? '') && !/^-[a-z]*p$/.test(args.at(-2) ?? '') ? [] : ['read needs the name of the variable to set'];
  // The upgrade page's version control steps.
  if (program === 'git') return ['pull', 'fetch', 'checkout', 'log'].includes(args[0] ?? '') && args.length <= 2 ? [] : ['git: only pull, fetch, checkout <ref> and log are shown'];
  if (program === 'aws') return args.length >= 2 && args.slice(0, 2).every((a) => /^[a-z0-9-]+$/.test(a)) ? [] : ['aws needs a service and an operation'];
  return [`no rule for "${program ?? ''}" commands (see docs/README.md): run it in a "sh runnable" block, or give it a rule in test/docs/check.ts`];
}

function checkNpm(args: string[], rules: Rules): string[] {
  const [sub, name] = args;
  if (sub === 'ci') return [];
  if (sub === 'test') return 'test' in rules.scripts ? [] : ['package.json has no "test" script'];
  if (sub === 'run') return name && name in rules.scripts ? [] : [`package.json has no script "${name ?? ''}"`];
  return [`npm ${sub ?? ''}: only npm ci, npm test and npm run <script> are checked`];
}

function checkServerless(args: string[], rules: Rules): string[] {
  const words: string[] = [];
  for (const a of args) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  // The longest known command the leading words spell ("invoke local" before "invoke").
  let name = '';
  for (let n = words.length; n > 0 && !name; n--) if (rules.serverlessCommands.has(words.slice(0, n).join(' '))) name = words.slice(0, n).join(' ');
  const command = name ? rules.serverlessCommands.get(name) : undefined;
  if (!command) return [`serverless has no command "${words.join(' ')}"`];
  const problems: string[] = [];
  const rest = args.slice(name.split(' ').length);
  const flags = rest.filter((a) => a.startsWith('-'));
  for (const flag of flags) {
    const known = flag.startsWith('--') ? command.flags.has(flag.slice(2).split('=')[0] ?? '') : command.shortcuts.has(flag.slice(1));
    if (!known) problems.push(`serverless ${name} takes no ${flag}`);
  }
  const stage = rest.findIndex((a) => a === '--stage' || a === '-s');
  if (command.flags.has('stage') && (stage < 0 || rest[stage + 1] === undefined)) {
    problems.push(`serverless ${name} without --stage uses stage "dev", which has no params: add --stage <stage>`);
  }
  rest.forEach((a, i) => {
    if (a !== '--param') return;
    const [param] = (rest[i + 1] ?? '').split('=');
    if (!rules.params.has(param ?? '')) problems.push(`--param ${param ?? ''} is not in serverless.yml's custom.params`);
  });
  return problems;
}

function checkCli(args: string[], rules: Rules): string[] {
  try {
    rules.parseCli(args);
    return [];
  } catch (err) {
    return [`rds-nlb-sync refuses it: ${(err as Error).message}`];
  }
}

/** What is wrong with a `json` block; [] when it parses. */
export function checkJson(block: Block): string[] {
  try {
    JSON.parse(block.text);
    return [];
  } catch (err) {
    return [`not JSON: ${(err as Error).message}`];
  }
}

/** serverless.yml's custom.params names (the block under `custom:` -> `  params:`, keys at 4 spaces). */
export function paramNames(serverlessYml: string): Set<string> {
  const lines = serverlessYml.split('\n');
  const custom = lines.indexOf('custom:');
  const start = lines.indexOf('  params:', custom);
  if (custom < 0 || start < 0) throw new Error('serverless.yml has no custom.params');
  const names = new Set<string>();
  for (const line of lines.slice(start + 1)) {
    if (/^ {0,3}\S/.test(line)) break;
    const key = /^ {4}([A-Za-z0-9]+):/.exec(line);
    if (key?.[1]) names.add(key[1]);
  }
  return names;
}
