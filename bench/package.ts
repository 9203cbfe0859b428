// The deployment zips as `npm run package` writes them (.serverless/<function>.zip, stage
// `example`): the one zip size the docs quote, and the one CI prints. The bench builds its own
// bundles to compare build options, but never its own zip: a second zip would be a second number.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FunctionName } from './build-options.js';
import { ROOT } from './bundle.js';

export const PACKAGE_SCRIPT = 'package:example';

export interface PackageZip {
  fn: FunctionName;
  /** Repo-relative path of the zip `npm run package` writes. */
  file: string;
  bytes: number;
}

export async function measurePackageZips(functions: readonly FunctionName[]): Promise<PackageZip[]> {
  await promisify(execFile)('npm', ['run', PACKAGE_SCRIPT], { cwd: ROOT, timeout: 300_000 });
  return Promise.all(
    functions.map(async (fn) => {
      const file = join('.serverless', `${fn}.zip`);
      return { fn, file, bytes: (await stat(join(ROOT, file))).size };
    }),
  );
}
