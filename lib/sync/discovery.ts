// Target groups found by tag (DISCOVER_TARGET_GROUPS): the rules that turn a tagged group into a
// mapping, and what a run serves when the listing fails. The listing itself is an adapter
// (lib/aws/target-groups.ts), passed in.
//
// Safety: a group is managed only while it carries the tag. A group whose tag went away is simply
// not in the list: nothing is done to it, its targets are never deregistered because of that. A
// listing that fails is unknown, not empty: the last successful discovery of this container is
// served, or the run fails before it changes anything.
import { checkEndpoint, checkPort, type Mapping, type SyncConfig } from '../config.js';
import { describeError } from '../log.js';
import { parseRdsEndpoint } from '../rds-endpoint.js';

/** What discovery reads of one target group (DescribeTargetGroups + DescribeTags). */
export interface TargetGroupFacts {
  arn: string;
  name: string;
  targetType: string;
  protocol: string;
  port?: number;
  ipAddressType: string;
  tags: Record<string, string>;
}

/** A tagged group that cannot be served: it alone fails, the others are served. */
export interface DiscoveryFailure {
  targetGroupArn: string;
  targetGroupName: string;
  tag: string;
  value: string;
  message: string;
}

/** A discovered group that a static mapping (same target group and port) already serves. */
export interface Overridden {
  targetGroupArn: string;
  port: number;
  /** What the tag says; the static mapping's endpoint is the one served. */
  taggedEndpoint: string;
  servedEndpoint: string;
}

export interface Discovered {
  mappings: Mapping[];
  failures: DiscoveryFailure[];
  overridden: Overridden[];
}

export interface DiscoveryKeys {
  tagKey: string;
  portTagKey: string;
}

/** The mappings the tagged groups ask for, beside the static ones (which win for the same target group and port). */
export function decideDiscovered(groups: TargetGroupFacts[], staticMappings: Mapping[], keys: DiscoveryKeys): Discovered {
  const out: Discovered = { mappings: [], failures: [], overridden: [] };
  const staticByKey = new Map(staticMappings.map((m) => [`${m.targetGroupArn} ${m.port}`, m]));
  for (const group of groups) {
    const value = group.tags[keys.tagKey];
    // Only the endpoint tag makes a group managed (a lone port tag does not).
    if (value === undefined) continue;
    const fail = (why: string, tag = keys.tagKey, tagValue = value) =>
      out.failures.push({
        targetGroupArn: group.arn,
        targetGroupName: group.name,
        tag,
        value: tagValue,
        message: `target group ${group.name} (${group.arn}) tagged ${tag}=${JSON.stringify(tagValue)}: ${why}`,
      });
    if (group.targetType !== 'ip') {
      fail(`its target type is ${group.targetType}; only IP target groups can follow an RDS endpoint: create an ip target group, or remove the tag`);
      continue;
    }
    if (group.protocol !== 'TCP') {
      fail(`its protocol is ${group.protocol}; a database behind an NLB needs a TCP target group: create a TCP one, or remove the tag`);
      continue;
    }
    const endpoint = checkEndpoint(value);
    if (!endpoint.ok) {
      fail(`the value ${endpoint.problem}`);
      continue;
    }
    // A tag is set by whoever may tag target groups: only an RDS endpoint name is followed (a CNAME
    // of your own zone is a static mapping, SYNC_MAPPINGS).
    if (parseRdsEndpoint(endpoint.endpoint).kind === 'other') {
      fail('the value is not an RDS endpoint name (<id>.[cluster-|cluster-ro-|cluster-custom-|proxy-]<hash>.<region>.rds.amazonaws.com); a name of your own zone goes in SYNC_MAPPINGS');
      continue;
    }
    const portText = group.tags[keys.portTagKey];
    let port: number;
    if (portText !== undefined) {
      const checked = checkPort(portText);
      if (!checked.ok) {
        fail(`the value ${checked.problem}`, keys.portTagKey, portText);
        continue;
      }
      port = checked.port;
    } else if (group.port !== undefined) {
      port = group.port;
    } else {
      fail(`the group has no port: tag it ${keys.portTagKey}=<the database port>`);
      continue;
    }
    const fixed = staticByKey.get(`${group.arn} ${port}`);
    if (fixed) {
      out.overridden.push({ targetGroupArn: group.arn, port, taggedEndpoint: endpoint.endpoint, servedEndpoint: fixed.endpoint });
      continue;
    }
    out.mappings.push({ endpoint: endpoint.endpoint, targetGroupArn: group.arn, port, ipAddressType: group.ipAddressType === 'ipv6' ? 'ipv6' : 'ipv4' });
  }
  return out;
}

/** What the run log says of discovery (the summary line's `discovery` field). */
export interface DiscoveryReport {
  tagKey: string;
  /** fresh: listed in this run; cached: the listing failed, the last successful one is served. */
  source: 'fresh' | 'cached';
  /** Discovered mappings served (static ones not counted). */
  groups: number;
  failures: DiscoveryFailure[];
  overridden: Overridden[];
  /** The listing's failure, when source is cached. */
  error?: { name: string; message: string };
}

/** How many failures the report adds to the run's count (each bad group, and a failed listing). */
export const discoveryFailures = (report: DiscoveryReport | undefined) => (report ? report.failures.length + (report.error ? 1 : 0) : 0);

export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
}

/** The last successful discovery in this container (module scope in the handler, so it lives across warm invocations). */
export class DiscoveryCache {
  last?: Discovered;
}

export type ListTaggedGroups = (keys: string[]) => Promise<TargetGroupFacts[]>;

/**
 * The config a run serves: the static mappings plus the discovered ones. Without discovery the
 * config is returned as it is. A failed listing serves the cache, or throws DiscoveryError.
 */
export async function discoverMappings(config: SyncConfig, list: ListTaggedGroups, cache: DiscoveryCache): Promise<{ config: SyncConfig; report?: DiscoveryReport }> {
  const settings = config.discovery;
  if (!settings) return { config };
  let found: Discovered;
  let error: DiscoveryReport['error'];
  try {
    found = decideDiscovered(await list([settings.tagKey]), config.mappings, settings);
    cache.last = found;
  } catch (err) {
    if (!cache.last) {
      throw new DiscoveryError(
        `cannot list the target groups tagged ${settings.tagKey} (${describeError(err).message}) and this container has no earlier discovery to serve: ` +
          'nothing was changed. Check elasticloadbalancing:DescribeTargetGroups and DescribeTags in the role, and the route to the elasticloadbalancing API.',
        { cause: err },
      );
    }
    found = cache.last;
    error = describeError(err);
  }
  const report: DiscoveryReport = {
    tagKey: settings.tagKey,
    source: error ? 'cached' : 'fresh',
    groups: found.mappings.length,
    failures: found.failures,
    overridden: found.overridden,
    ...(error ? { error } : {}),
  };
  return { config: { ...config, mappings: [...config.mappings, ...found.mappings] }, report };
}
