// The CLI's terminal: where output goes and the exit codes. Its own file so the commands
// (cli/fivetran.ts) and the entry (cli/main.ts) share it without importing each other.
export interface CliIo {
  /** Settings are read from here (the Lambdas' variable names); the AWS SDK reads process.env itself. */
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  color: boolean;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export function processIo(): CliIo {
  const env = process.env;
  return {
    env,
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    color: Boolean(process.stdout.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb',
  };
}
