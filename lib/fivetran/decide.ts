// Pure decisions for linking Fivetran to our endpoint service through Fivetran's Private Link
// API: which Fivetran region an AWS region is, which existing link is ours, what a link's state
// means for the wait, and the support request when the API cannot be used.
// Sources (Fivetran docs, read 2026-11): REST API reference "Private Link" (fields id, name,
// region, service, state, state_summary, config.connection_service_name, host, created_at;
// states CREATING, UPDATING, DESTROYING, OK, FAIL), "Create a Private Link" (POST body
// {name, region, service, config}; name: letters, digits, underscores, starting with a letter
// or underscore, at most 23 characters), "Private Links Management config" (the AWS region codes
// below), tutorial "Set Up a Connection With Private Links" (service SOURCE_AWS with
// config.connection_service_name = the VPC endpoint service name; poll until state is OK), and
// "AWS PrivateLink" (Business Critical plan required).

/** Fivetran's AWS data processing regions for Private Links, as the API reference lists them. */
export const FIVETRAN_AWS_REGIONS: readonly string[] = [
  'AWS_US_EAST_1',
  'AWS_US_EAST_2',
  'AWS_US_WEST_2',
  'AWS_AP_NORTHEAST_1',
  'AWS_AP_SOUTHEAST_1',
  'AWS_AP_SOUTHEAST_2',
  'AWS_EU_CENTRAL_1',
  'AWS_EU_WEST_1',
  'AWS_EU_WEST_2',
  'AWS_AP_SOUTH_1',
  'AWS_CA_CENTRAL_1',
  'AWS_US_GOV_WEST_1',
];

/** Private Link service type for a database source on AWS (the tutorial's PRIVATE_LINK_SERVICE). */
export const SOURCE_AWS = 'SOURCE_AWS';

export type LinkState = 'CREATING' | 'UPDATING' | 'DESTROYING' | 'OK' | 'FAIL';

/** A Private Link as the API returns it: only the fields we read. */
export interface PrivateLink {
  id: string;
  name: string;
  region: string;
  service: string;
  state: string;
  state_summary?: string;
  host?: string;
  config?: { connection_service_name?: string } & Record<string, unknown>;
}

export class UnsupportedRegionError extends Error {
  override name = 'UnsupportedRegionError';
}

/** "eu-west-1" -> "AWS_EU_WEST_1"; a region Fivetran does not list is refused with the list. */
export function fivetranRegion(awsRegion: string): string {
  const code = `AWS_${awsRegion.toUpperCase().replace(/-/g, '_')}`;
  if (!FIVETRAN_AWS_REGIONS.includes(code)) {
    const listed = FIVETRAN_AWS_REGIONS.map((r) => r.slice(4).toLowerCase().replace(/_/g, '-'));
    throw new UnsupportedRegionError(
      `Fivetran offers Private Links in no region ${awsRegion} (would be ${code}). Fivetran's AWS regions: ${listed.join(', ')}. ` +
        'The endpoint service must be in one of them: deploy there, or ask Fivetran support about your region.',
    );
  }
  return code;
}

/** com.amazonaws.vpce.<region>.<service ID>: the name EC2 gives an endpoint service and Fivetran asks for. */
export const endpointServiceName = (region: string, serviceId: string) => `com.amazonaws.vpce.${region}.${serviceId}`;

/** A valid Private Link name for a service: "rds_" + the service ID's hex digits (21 characters). */
export function linkNameFor(serviceId: string): string {
  return `rds_${serviceId.replace(/^vpce-svc-/, '').replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 23);
}

export function isValidLinkName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]{0,22}$/.test(name);
}

/**
 * The link that consumes this endpoint service: the one whose config names it. One being
 * destroyed counts only when no other does (creating a second while it goes would race it).
 */
export function findLink(links: readonly PrivateLink[], serviceName: string): PrivateLink | undefined {
  const ours = links.filter((l) => l.config?.connection_service_name === serviceName);
  return ours.find((l) => l.state !== 'DESTROYING') ?? ours[0];
}

export type LinkProgress = { done: false; waitingFor: string } | { done: true; ok: true } | { done: true; ok: false; why: string };

/** What a link's state means while we wait for it. */
export function linkProgress(link: PrivateLink): LinkProgress {
  switch (link.state) {
    case 'OK':
      return { done: true, ok: true };
    case 'FAIL':
      return { done: true, ok: false, why: link.state_summary ? `Fivetran says: ${link.state_summary}` : 'Fivetran reports FAIL without a summary' };
    case 'DESTROYING':
      return { done: true, ok: false, why: `link ${link.id} is being deleted in Fivetran; wait until it is gone, then run "rds-nlb-sync fivetran link" again` };
    default:
      return { done: false, waitingFor: `Fivetran: ${link.state}${link.state_summary ? ` (${link.state_summary})` : ''}` };
  }
}

/** What to check when Fivetran reports FAIL: the usual reasons a PrivateLink consumer cannot connect. */
export const FAIL_CHECKLIST = [
  "The endpoint service allows Fivetran's principal arn:aws:iam::834469178297:root (ALLOWED_PRINCIPALS, the service's permissions).",
  'The endpoint connection from Fivetran was accepted: "rds-nlb-sync fivetran status" shows it available (or run "rds-nlb-sync accept").',
  'The endpoint service and its NLB are in the region the link names, and the NLB has a subnet in each zone the database uses.',
  'The NLB forwards the database port to a healthy target: "rds-nlb-sync doctor".',
];

export interface SupportRequestInput {
  serviceName: string;
  region: string;
  account?: string;
  reason: string;
}

/**
 * The request for Fivetran support when the API cannot create the link (no API key, plan or
 * self-service not enabled): the endpoint service name, its region and the AWS account, which
 * is what Fivetran's PrivateLink guide asks a customer to send.
 */
export function supportRequest({ serviceName, region, account, reason }: SupportRequestInput): string {
  return [
    `Why: ${reason}`,
    '',
    'Send this to Fivetran support (support.fivetran.com) or your Fivetran account team:',
    '',
    '  Subject: AWS PrivateLink for a database source',
    '',
    '  Please connect our source through AWS PrivateLink.',
    `  VPC endpoint service name: ${serviceName}`,
    `  AWS region: ${region}`,
    `  AWS account: ${account ?? '<your AWS account ID>'}`,
    "  The service allows Fivetran's principal arn:aws:iam::834469178297:root, and our accept function",
    '  accepts the endpoint connection from that account automatically.',
  ].join('\n');
}
