// No two modules of the CLI, lib/ or functions/ import each other, directly or through others
// (STYLE: shared types live beside the helpers that use them). Type-only imports count: they
// tie the files together for a reader and for the next edit.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** file -> the project files it imports (relative specifiers, .js written for .ts). */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+'(\.{1,2}\/[^']+)'/g)].map((m) =>
      relative(ROOT, resolve(ROOT, dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts'))),
    );
    graph.set(file, targets.filter((t) => files.includes(t)));
  }
  return graph;
}

/** Every cycle, as a path that starts and ends at the same file. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

describe('imports', () => {
  it('finds a cycle when there is one', () => {
    expect(findCycles(new Map([['a', ['b']], ['b', ['a']], ['c', []]]))).toEqual([['a', 'b', 'a']]);
  });

  it('has no import cycle in cli/, lib/ or functions/ (cli/main.ts and cli/fivetran.ts share cli/io.ts)', () => {
    const files = [...sources('cli'), ...sources('lib'), ...sources('functions')];
    expect(files).toContain(join('cli', 'fivetran.ts'));
    expect(findCycles(importGraph(files))).toEqual([]);
  });
});
