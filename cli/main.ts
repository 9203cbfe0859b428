// rds-nlb-sync, the operator CLI: plan, sync, accept, doctor and drill from a terminal, with the same
// lib/ code the Lambdas run. Entry: bin/rds-nlb-sync.mjs calls main(). No side effects on import.
import { ConfigError } from '../lib/config.js';
import { isFatalAwsError } from '../lib/doctor/verdict.js';
import { describeError } from '../lib/log.js';
import { COMMAND_RUNNERS } from './commands.js';
import { awsOptionsOf, readCliParameter } from './clients.js';
import { checkDrillCommandLine } from './drill.js';
import { runFivetranCli } from './fivetran.js';
import { gatherSettings, withMappingsParameter } from './config.js';
import { helpText, parseCommandLine, UsageError } from './options.js';
import { EXIT, processIo, type CliIo } from './io.js';

export { EXIT, processIo, type CliIo } from './io.js';

/** Runs one command line; resolves to the process exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  // Known before parsing, so that even a bad command line answers in JSON when asked to.
  let json = argv.includes('--json');
  try {
    // A command with subcommands and its own flags (cli/fivetran.ts).
    const fivetran = argv[0] === 'fivetran' ? await runFivetranCli(argv.slice(1), io) : undefined;
    if (fivetran) {
      io.stdout(json && fivetran.data !== null ? `${JSON.stringify(fivetran.data, null, 2)}\n` : `${fivetran.text}\n`);
      return fivetran.exitCode;
    }
    const parsed = parseCommandLine(argv);
    if (parsed.kind === 'help') {
      io.stdout(`${helpText(parsed.command)}\n`);
      return EXIT.ok;
    }
    json = parsed.flags.json === true;
    // Refused before settings are read or any AWS client exists (SYNC_MAPPINGS_PARAMETER reads SSM).
    if (parsed.command === 'drill') checkDrillCommandLine(parsed.flags);
    const gathered = await gatherSettings(parsed.command, parsed.flags, io.env);
    const settings = await withMappingsParameter(gathered, (name) => readCliParameter(awsOptionsOf(parsed.flags, gathered.values), name));
    const result = await COMMAND_RUNNERS[parsed.command]({ settings, flags: parsed.flags, style: { color: io.color && !json }, stderr: io.stderr, stdout: io.stdout });
    io.stdout(json ? `${JSON.stringify(result.data, null, 2)}\n` : `${result.text}\n`);
    return result.exitCode;
  } catch (err) {
    return reportError(err, json, io);
  }
}

const CREDENTIALS_FIX = 'No usable AWS credentials: run "aws configure" or "aws sso login", set AWS_PROFILE, or pass --profile <name>.';

function isCredentialsError(err: unknown): boolean {
  // doctor's rule for "AWS cannot be read at all", minus a missing region (a settings error of its own).
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (isFatalAwsError(e) && !/region is missing/i.test(e.message)) return true;
  }
  return false;
}

function reportError(err: unknown, json: boolean, io: CliIo): number {
  const usage = err instanceof UsageError || err instanceof ConfigError;
  if (isCredentialsError(err)) {
    // One line that says what to do: no class name, no multi-line SDK text.
    const message = `${describeError(err).message.split('\n')[0]?.replace(/\.$/, '')}. ${CREDENTIALS_FIX}`;
    io[json ? 'stdout' : 'stderr'](json ? `${JSON.stringify({ error: { name: 'CredentialsError', message } }, null, 2)}\n` : `rds-nlb-sync: ${message}\n`);
    return EXIT.failed;
  }
  const { name, message } = describeError(err);
  if (json) {
    const problems = err instanceof ConfigError && err.problems.length > 0 ? { problems: err.problems } : {};
    io.stdout(`${JSON.stringify({ error: { name, message, ...problems } }, null, 2)}\n`);
  } else {
    const hint = err instanceof UsageError ? `\nRun "rds-nlb-sync ${err.command ?? ''}${err.command ? ' ' : ''}--help" for usage.` : '';
    io.stderr(`rds-nlb-sync: ${usage ? '' : `${name}: `}${message}${hint}\n`);
  }
  return usage ? EXIT.usage : EXIT.failed;
}
