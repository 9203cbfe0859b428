// Settings for the CLI: flags over the environment over a config file, all under the Lambdas'
// env names, then validated by lib/config, so the CLI accepts exactly what the functions accept.
import { readFile } from 'node:fs/promises';
import { parseEnv } from 'node:util';
import {
  ConfigError,
  loadAcceptConfig,
  loadSyncConfig,
  readSyncMappingsParameter,
  type AcceptConfig,
  type DnsConfig,
  type ReadParameter,
  type SyncConfig,
} from '../lib/config.js';
import type { DoctorInput } from '../lib/doctor/run.js';
import { OPTIONS, SETTING_NAMES, type Command, type Flags, optionsOf } from './options.js';

export type Settings = Record<string, string | undefined>;

export interface ResolvedSettings {
  values: Settings;
  /** Where each value came from ("--port", "environment", "file x.json"), for error messages. */
  sources: Record<string, string>;
}

interface Layer {
  source: string | ((key: string) => string);
  values: Settings;
}

// The keys that together describe the mapping(s). A layer that names an endpoint (RDS_ENDPOINT
// or SYNC_MAPPINGS) replaces the mapping of the layers below it, so `--endpoint ...` overrides a
// file's SYNC_MAPPINGS; a lone `--port` still overrides just the port.
const MAPPING_KEYS = ['SYNC_MAPPINGS_PARAMETER', 'SYNC_MAPPINGS', 'RDS_ENDPOINT', 'TARGET_GROUP_ARN', 'TARGET_PORT', 'TARGET_AVAILABILITY_ZONE', 'TARGET_IP_ADDRESS_TYPE'];
const MAPPING_NAMES = ['SYNC_MAPPINGS_PARAMETER', 'SYNC_MAPPINGS', 'RDS_ENDPOINT'];

export async function gatherSettings(command: Command, flags: Flags, env: Settings): Promise<ResolvedSettings> {
  const file = typeof flags.config === 'string' ? flags.config : undefined;
  const layers: Layer[] = [
    ...(file ? [{ source: `file ${file}`, values: await readConfigFile(file) }] : []),
    { source: 'environment', values: pick(env, SETTING_NAMES) },
    { source: (key: string) => `--${OPTIONS.find((o) => o.env === key)?.flag}`, values: settingsFromFlags(command, flags) },
  ];
  return mergeSettings(layers);
}

/**
 * SYNC_MAPPINGS_PARAMETER -> SYNC_MAPPINGS read from SSM (the Lambda's rule, lib/config.ts), so
 * every command validates it as SYNC_MAPPINGS and a bad value names the parameter it came from.
 */
export async function withMappingsParameter(settings: ResolvedSettings, readParameter: ReadParameter): Promise<ResolvedSettings> {
  const name = settings.values.SYNC_MAPPINGS_PARAMETER?.trim();
  if (!name) return settings;
  const value = await withSources(settings, () => readSyncMappingsParameter(settings.values, readParameter));
  const { SYNC_MAPPINGS_PARAMETER: _, ...values } = settings.values;
  return { values: { ...values, SYNC_MAPPINGS: value }, sources: { ...settings.sources, SYNC_MAPPINGS: `SSM parameter ${name}, ${settings.sources.SYNC_MAPPINGS_PARAMETER ?? 'SYNC_MAPPINGS_PARAMETER'}` } };
}

export function mergeSettings(layers: Layer[]): ResolvedSettings {
  const values: Settings = {};
  const sources: Record<string, string> = {};
  for (const layer of layers) {
    const given = Object.entries(layer.values).filter(([, v]) => v !== undefined && v !== '');
    if (given.some(([key]) => MAPPING_NAMES.includes(key))) {
      for (const key of MAPPING_KEYS) {
        delete values[key];
        delete sources[key];
      }
    }
    for (const [key, value] of given) {
      values[key] = value;
      sources[key] = typeof layer.source === 'string' ? layer.source : layer.source(key);
    }
  }
  return { values, sources };
}

export function settingsFromFlags(command: Command, flags: Flags): Settings {
  const settings: Settings = {};
  for (const option of optionsOf(command)) {
    const value = flags[option.flag];
    if (!option.env || value === undefined) continue;
    settings[option.env] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return settings;
}

const pick = (env: Settings, keys: readonly string[]): Settings => Object.fromEntries(keys.flatMap((k) => (env[k] !== undefined ? [[k, env[k]]] : [])));

/** A `.json` file holds an object of settings; any other file KEY=value lines (dotenv). */
export async function readConfigFile(path: string): Promise<Settings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  const settings = path.endsWith('.json') ? parseJsonSettings(text, path) : parseEnv(text);
  const unknown = Object.keys(settings).filter((key) => !SETTING_NAMES.includes(key));
  if (unknown.length > 0) {
    throw new ConfigError(`config file ${path}: unknown setting ${unknown.join(', ')}; known settings: ${SETTING_NAMES.join(', ')}`);
  }
  return settings;
}

function parseJsonSettings(text: string, path: string): Settings {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`config file ${path} must hold one JSON object of settings, e.g. {"RDS_ENDPOINT": "mydb.abc.eu-west-1.rds.amazonaws.com"}`);
  }
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, settingValue(value)]));
}

/** JSON values as the env would hold them: lists comma-joined, objects (SYNC_MAPPINGS) as JSON. */
function settingValue(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.join(',');
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Validation through lib/config, with each problem naming where its value came from

export function loadSync(settings: ResolvedSettings): SyncConfig {
  return withSources(settings, () => loadSyncConfig(settings.values));
}

export function loadAccept(settings: ResolvedSettings): AcceptConfig {
  return withSources(settings, () => loadAcceptConfig(settings.values));
}

// lib/config requires ENDPOINT_SERVICE_IDS or LOAD_BALANCER_ARNS (accept needs one); doctor finds
// the services from the target group's NLB instead, so it satisfies the rule with a placeholder
// that it drops again.
const PLACEHOLDER_LB = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/doctor-placeholder/0';

/** doctor's input, and the DNS settings its resolver needs. */
export function loadDoctorInput(settings: ResolvedSettings, stage: string | undefined): { input: DoctorInput; dns: DnsConfig } {
  const problems: string[] = [];
  const attempt = <T>(load: () => T): T | undefined => {
    try {
      return load();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  };
  const needsPlaceholder = !settings.values.ENDPOINT_SERVICE_IDS && !settings.values.LOAD_BALANCER_ARNS;
  const sync = attempt(() => loadSync(settings));
  const accept = attempt(() =>
    needsPlaceholder ? loadAccept({ ...settings, values: { ...settings.values, LOAD_BALANCER_ARNS: PLACEHOLDER_LB } }) : loadAccept(settings),
  );
  if (!sync || !accept) throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`, problems);
  const functionName = (key: string, role: string) => settings.values[key] ?? (stage ? `rds-nlb-sync-${stage}-${role}` : undefined);
  const syncFunction = functionName('SYNC_FUNCTION_NAME', 'sync');
  const acceptFunction = functionName('ACCEPT_FUNCTION_NAME', 'accept');
  const input: DoctorInput = {
    mappings: sync.mappings,
    serviceIds: accept.serviceIds,
    allowedAccounts: accept.allowedAccounts,
    metricsNamespace: sync.metricsNamespace,
    ...(sync.warm ? { warm: sync.warm } : {}),
    functions: { ...(syncFunction ? { sync: syncFunction } : {}), ...(acceptFunction ? { accept: acceptFunction } : {}) },
  };
  return { input, dns: sync.dns };
}

function withSources<T>(settings: ResolvedSettings, load: () => Promise<T>): Promise<T>;
function withSources<T>(settings: ResolvedSettings, load: () => T): T;
function withSources<T>(settings: ResolvedSettings, load: () => T | Promise<T>): T | Promise<T> {
  const rethrow = (err: unknown): never => {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems.map((p) => annotate(p, settings.sources));
    throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`, problems);
  };
  try {
    const out = load();
    return out instanceof Promise ? out.catch(rethrow) : out;
  } catch (err) {
    return rethrow(err);
  }
}

/** "TARGET_PORT must be ..." -> "TARGET_PORT (--port) must be ...": the operator sees which input to fix. */
function annotate(problem: string, sources: Record<string, string>): string {
  const key = /^[A-Z_]+/.exec(problem)?.[0];
  if (!key) return problem;
  const flag = OPTIONS.find((o) => o.env === key)?.flag;
  const where = sources[key] ?? (flag ? `--${flag}` : undefined);
  return where ? `${key} (${where})${problem.slice(key.length)}` : problem;
}
