// What every command runner takes and returns (cli/commands.ts, cli/drill.ts, cli/fivetran.ts),
// apart from the runners themselves so that no two command files import each other.
import type { ResolvedSettings } from './config.js';
import type { Flags } from './options.js';
import type { Style } from './output.js';

export interface CommandContext {
  settings: ResolvedSettings;
  flags: Flags;
  style: Style;
  /** --verbose: lib's log lines go here (stderr), so stdout stays the result. */
  stderr: (text: string) => void;
  /** Progress as it happens (drill's live timeline); the result is printed after the run. */
  stdout: (text: string) => void;
}

export interface CommandResult {
  data: unknown;
  text: string;
  exitCode: number;
}

export type CommandRunner = (ctx: CommandContext) => Promise<CommandResult>;
