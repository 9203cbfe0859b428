// fivetran.link: with Fivetran API credentials, the Private Link that consumes this endpoint
// service exists, Fivetran reports it OK, and its endpoint is one we accepted. Fivetran's API
// does not name its interface endpoint (a SOURCE_AWS link carries only connection_service_name),
// so "the one we accepted" is checked as: an available connection from an allowed account
// (Fivetran's, by default) on the service the link names.
import type { ServiceConfiguration } from '@aws-sdk/client-ec2';
import type { FivetranClient } from '../fivetran/client.js';
import { findLink, type PrivateLink } from '../fivetran/decide.js';
import type { ConnectionInfo } from './read.js';
import { fail, pass, warn, type Check, type Verdict } from './verdict.js';

/**
 * Without credentials the check does not run (a permanent warning for operators who took the
 * support-ticket route would teach them to ignore warnings); the CLI prints this note instead.
 */
export const FIVETRAN_CHECK_HINT =
  'fivetran.link not checked: set FIVETRAN_API_KEY and FIVETRAN_API_SECRET (Fivetran dashboard: API key) to check the Fivetran Private Link too.';

export function fivetranLinkCheck(fivetran: FivetranClient): Check<ServiceConfiguration> {
  return {
    id: 'fivetran.link',
    async run(service, { reader, allowedAccounts }) {
      const serviceName = service.ServiceName ?? service.ServiceId ?? '';
      const link = findLink(await fivetran.listPrivateLinks(), serviceName);
      const connections = link ? await reader.connections(service.ServiceId ?? '') : [];
      return fivetranLinkVerdict(link, connections, allowedAccounts, serviceName);
    },
  };
}

export function fivetranLinkVerdict(link: PrivateLink | undefined, connections: ConnectionInfo[], allowedAccounts: string[], serviceName: string): Verdict {
  if (!link) return fail(`Fivetran has no Private Link for ${serviceName}`, 'Create it: rds-nlb-sync fivetran link (or send the support request it prints).');
  const label = `Private Link ${link.id} (${link.name}, ${link.region})`;
  if (link.state === 'FAIL') {
    return fail(`${label} is FAIL${link.state_summary ? `: ${link.state_summary}` : ''}`, 'Run "rds-nlb-sync fivetran status" and fix what it lists; then ask Fivetran support to retry the link.');
  }
  const ours = connections.filter((c) => c.owner && allowedAccounts.includes(c.owner));
  const available = ours.filter((c) => c.state.toLowerCase() === 'available');
  if (link.state !== 'OK') {
    return warn(`${label} is ${link.state}${link.state_summary ? ` (${link.state_summary})` : ''}`, 'Wait for Fivetran to finish: rds-nlb-sync fivetran status.');
  }
  if (available.length === 0) {
    const seen = ours.map((c) => `${c.endpointId} ${c.state}`).join(', ') || 'none';
    return fail(`${label} is OK but no endpoint connection from ${allowedAccounts.join(', ')} is available (seen: ${seen})`, 'Accept it: rds-nlb-sync accept (or check the accept function).');
  }
  return pass(`${label} is OK; its endpoint ${available.map((c) => c.endpointId).join(', ')} is accepted and available`);
}
