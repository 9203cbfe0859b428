// What an RDS endpoint name says about the database behind it. AWS's endpoint names follow one
// pattern per kind, so users paste the endpoint they already have and we read the kind from it:
//   <instance>.<hash>.<region>.rds.amazonaws.com                  instance
//   <cluster>.cluster-<hash>.<region>.rds.amazonaws.com           cluster (writer)
//   <cluster>.cluster-ro-<hash>.<region>.rds.amazonaws.com        reader (one member per query)
//   <name>.cluster-custom-<hash>.<region>.rds.amazonaws.com       custom (one member per query)
//   <proxy>.proxy-<hash>.<region>.rds.amazonaws.com               RDS Proxy (and
//   <name>.endpoint.proxy-<hash>.<region>.rds.amazonaws.com        its extra endpoints)
// Any other name (a CNAME of the customer's own zone, say) is 'other': DNS is all we know.

export type RdsEndpointKind = 'instance' | 'cluster' | 'reader' | 'custom' | 'proxy' | 'other';

export interface RdsEndpoint {
  kind: RdsEndpointKind;
  /** The instance, cluster, custom endpoint or proxy identifier: the first DNS label. */
  identifier: string;
  /** The region in the name, when the name is an RDS one. */
  region?: string;
}

const RDS_NAME = /^([a-z][a-z0-9-]*)\.(?:(endpoint)\.)?((?:cluster-ro-|cluster-custom-|cluster-|proxy-)?)[a-z0-9]+\.([a-z]{2}(?:-[a-z]+)+-\d)\.rds\.amazonaws\.com(?:\.cn)?\.?$/;

const KIND_OF_PREFIX: Record<string, RdsEndpointKind> = {
  '': 'instance',
  'cluster-': 'cluster',
  'cluster-ro-': 'reader',
  'cluster-custom-': 'custom',
  'proxy-': 'proxy',
};

export function parseRdsEndpoint(hostname: string): RdsEndpoint {
  const name = hostname.toLowerCase();
  const m = RDS_NAME.exec(name);
  const [, identifier, proxyEndpoint, prefix = '', region] = m ?? [];
  if (!m || !identifier || (proxyEndpoint && prefix !== 'proxy-')) return { kind: 'other', identifier: name.split('.')[0] ?? name };
  return { kind: KIND_OF_PREFIX[prefix] ?? 'other', identifier, ...(region ? { region } : {}) };
}

/**
 * Reader and custom endpoints answer one member per DNS query, at random: their answer is a
 * sample, not the set, so the desired targets are the members listed with the RDS API.
 */
export const isMemberSet = (hostname: string): boolean => {
  const { kind } = parseRdsEndpoint(hostname);
  return kind === 'reader' || kind === 'custom';
};
