// What the bench needs from serverless.yml, read without a YAML library (it holds CloudFormation
// tags): the sync function's memory, the sync schedule's default, and whether `custom.esbuild`
// still says what BUILD_OPTIONS says.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_OPTIONS } from './build-options.js';

export const DEFAULT_MEMORY_MB = 256;

export interface ServerlessFacts {
  found: boolean;
  memoryMb: number;
  /** Where memoryMb came from. */
  memorySource: string;
  syncSchedule: string;
  /** provider.architecture (Lambda's default: x86_64); it sets the price per GB-second. */
  architecture: 'arm64' | 'x86_64';
  /** custom.esbuild keys that differ from BUILD_OPTIONS ([] = in sync); null when not checked. */
  esbuildDrift: string[] | null;
}

/** The lines of the block under `key:` at `indent` spaces (its children), from `from`. */
function block(lines: string[], key: string, indent: number, from = 0, to = lines.length): [number, number] | undefined {
  const head = new RegExp(`^ {${indent}}${key}:\\s*(#.*)?$`);
  const start = lines.slice(from, to).findIndex((l) => head.test(l));
  if (start === -1) return undefined;
  let end = from + start + 1;
  while (end < to && (lines[end]?.trim() === '' || (lines[end]?.search(/\S/) ?? 0) > indent || lines[end]?.trim().startsWith('#'))) end++;
  return [from + start + 1, end];
}

function scalar(lines: string[], key: string, indent: number, [from, to]: [number, number]): string | undefined {
  const re = new RegExp(`^ {${indent}}${key}:\\s*(.+?)\\s*(#.*)?$`);
  for (const line of lines.slice(from, to)) {
    const value = re.exec(line)?.[1];
    if (value !== undefined) return value.replace(/^(['"])(.*)\1$/, '$2');
  }
  return undefined;
}

export function readServerlessFacts(root: string): ServerlessFacts {
  const path = join(root, 'serverless.yml');
  if (!existsSync(path)) {
    return { found: false, memoryMb: DEFAULT_MEMORY_MB, memorySource: `default ${DEFAULT_MEMORY_MB} MB (no serverless.yml)`, syncSchedule: 'rate(1 minute)', architecture: 'x86_64', esbuildDrift: null };
  }
  const lines = readFileSync(path, 'utf8').split('\n');
  const all: [number, number] = [0, lines.length];

  let memoryMb = DEFAULT_MEMORY_MB;
  let memorySource = `default ${DEFAULT_MEMORY_MB} MB (serverless.yml sets none)`;
  const functions = block(lines, 'functions', 0);
  const sync = functions && block(lines, 'sync', 2, ...functions);
  const provider = block(lines, 'provider', 0);
  const fnMemory = sync && scalar(lines, 'memorySize', 4, sync);
  const providerMemory = provider && scalar(lines, 'memorySize', 2, provider);
  if (fnMemory && /^\d+$/.test(fnMemory)) [memoryMb, memorySource] = [Number(fnMemory), `serverless.yml functions.sync.memorySize`];
  else if (providerMemory && /^\d+$/.test(providerMemory)) [memoryMb, memorySource] = [Number(providerMemory), `serverless.yml provider.memorySize`];

  // syncSchedule: ${param:syncSchedule, 'rate(1 minute)'} -> the default after the comma.
  const params = block(lines, 'params', 2, ...(block(lines, 'custom', 0) ?? all));
  const scheduleParam = params && scalar(lines, 'syncSchedule', 4, params);
  const syncSchedule = /,\s*'([^']+)'\s*\}$/.exec(scheduleParam ?? '')?.[1] ?? 'rate(1 minute)';

  const architecture = provider && scalar(lines, 'architecture', 2, provider) === 'arm64' ? 'arm64' : 'x86_64';
  return { found: true, memoryMb, memorySource, syncSchedule, architecture, esbuildDrift: esbuildDrift(lines) };
}

function esbuildDrift(lines: string[]): string[] | null {
  const custom = block(lines, 'custom', 0);
  const esbuild = custom && block(lines, 'esbuild', 2, ...custom);
  if (!esbuild) return null;
  const get = (key: string) => scalar(lines, key, 4, esbuild);
  const unquote = (s: string) => s.trim().replace(/^(['"])(.*)\1$/, '$2');
  // `key: [a, b]` or a block sequence of `- a` lines under `key:`.
  const list = (key: string) => {
    const inline = get(key);
    if (inline !== undefined) return inline.replace(/^\[|\]$/g, '').split(',').map(unquote).filter(Boolean);
    const items = block(lines, key, 4, ...esbuild);
    return items ? lines.slice(...items).flatMap((l) => /^\s*- (.+?)\s*(#.*)?$/.exec(l)?.[1] ?? []).map(unquote) : [];
  };
  const banner = block(lines, 'banner', 4, ...esbuild);
  const expected: Record<string, string> = {
    bundle: String(BUILD_OPTIONS.bundle),
    minify: String(BUILD_OPTIONS.minify),
    treeShaking: String(BUILD_OPTIONS.treeShaking),
    sourcemap: String(BUILD_OPTIONS.sourcemap),
    platform: BUILD_OPTIONS.platform,
    target: BUILD_OPTIONS.target,
    format: BUILD_OPTIONS.format,
    outputFileExtension: BUILD_OPTIONS.outExtension['.js'],
    mainFields: BUILD_OPTIONS.mainFields.join(','),
    'external + exclude': [...BUILD_OPTIONS.external].sort().join(','),
    'banner.js': BUILD_OPTIONS.banner.js,
    plugins: 'plugins' in BUILD_OPTIONS ? 'set' : 'none',
  };
  const actual: Record<string, string | undefined> = {
    bundle: get('bundle'),
    minify: get('minify'),
    treeShaking: get('treeShaking'),
    sourcemap: get('sourcemap'),
    platform: get('platform'),
    target: get('target'),
    format: get('format'),
    outputFileExtension: get('outputFileExtension'),
    mainFields: list('mainFields').join(','),
    'external + exclude': [...new Set([...list('external'), ...list('exclude')])].sort().join(','),
    'banner.js': banner ? scalar(lines, 'js', 6, banner) : undefined,
    plugins: get('plugins') ? 'set' : 'none',
  };
  return Object.keys(expected).filter((k) => expected[k] !== actual[k]);
}
