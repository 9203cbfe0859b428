// From a deployed endpoint service to a connected Fivetran: find or create the Private Link
// (idempotent: list first, Fivetran allows only 5 creations an hour), then wait until Fivetran
// says OK while the endpoint connection gets accepted (by the accept function, or in-process
// with --accept), reporting each change. No decisions here that decide.ts does not make.
import { isTransientFivetranError, type FivetranClient } from './client.js';
import {
  endpointServiceName,
  FAIL_CHECKLIST,
  findLink,
  fivetranRegion,
  linkNameFor,
  linkProgress,
  SOURCE_AWS,
  type PrivateLink,
} from './decide.js';

/** The shortest wait between two polls: Fivetran's API is rate limited, and the link takes minutes. */
export const MIN_POLL_MS = 1000;

export interface LinkInput {
  serviceId: string;
  /** AWS region of the endpoint service. */
  region: string;
  /** EC2's name for the service; default com.amazonaws.vpce.<region>.<serviceId>. */
  serviceName?: string;
  /** Private Link name; default rds_<service hex>. */
  name?: string;
  waitMs: number;
  pollMs: number;
}

export interface LinkDeps {
  fivetran: FivetranClient;
  /** One line per visible step (stderr in the CLI, so --json stays clean). */
  progress: (line: string) => void;
  /** Our side, each round: e.g. "endpoint vpce-... from 834469178297: pendingAcceptance". */
  connectionState?: () => Promise<string>;
  /** --accept: one in-process accept pass per round; returns what it did, for the progress line. */
  acceptRound?: () => Promise<string>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export interface LinkResult {
  outcome: 'connected' | 'failed' | 'timeout';
  /** false: a link for this service existed already and was reused. */
  created: boolean;
  serviceName: string;
  fivetranRegion: string;
  link: PrivateLink;
  /** FAIL: Fivetran's state_summary, and what to check. */
  why?: string;
  checklist?: string[];
  polls: number;
  durationMs: number;
}

export async function linkEndpointService(input: LinkInput, deps: LinkDeps): Promise<LinkResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const started = now();
  // Refused before any call: a region Fivetran does not list cannot be linked.
  const region = fivetranRegion(input.region);
  const serviceName = input.serviceName ?? endpointServiceName(input.region, input.serviceId);

  let link = findLink(await deps.fivetran.listPrivateLinks(), serviceName);
  const created = link === undefined;
  if (link) {
    deps.progress(`Private Link ${link.id} (${link.name}) for ${serviceName} exists already: ${link.state}`);
  } else {
    const name = input.name ?? linkNameFor(input.serviceId);
    link = await deps.fivetran.createPrivateLink({ name, region, service: SOURCE_AWS, config: { connection_service_name: serviceName } });
    deps.progress(`Created Private Link ${link.id} (${name}) in ${region} for ${serviceName}: ${link.state}`);
  }

  let polls = 0;
  let last = '';
  for (;;) {
    const progress = linkProgress(link);
    const result = (outcome: LinkResult['outcome'], extra: Partial<LinkResult> = {}): LinkResult => ({
      outcome,
      created,
      serviceName,
      fivetranRegion: region,
      link: link as PrivateLink,
      polls,
      durationMs: now() - started,
      ...extra,
    });
    if (progress.done) return progress.ok ? result('connected') : result('failed', { why: progress.why, checklist: FAIL_CHECKLIST });
    if (now() - started >= input.waitMs) {
      return result('timeout', { why: `still ${link.state} after ${Math.round(input.waitMs / 1000)} s; run "rds-nlb-sync fivetran status" later` });
    }
    // Our side as it was, then what --accept did about it.
    const ours = deps.connectionState ? await deps.connectionState() : '';
    const accepted = deps.acceptRound ? await deps.acceptRound() : '';
    const line = [progress.waitingFor, ours, accepted].filter(Boolean).join('; ');
    // One line per change, plus a heartbeat every tenth poll, so a long wait visibly lives.
    if (line !== last || polls % 10 === 0) deps.progress(`  waiting (${Math.round((now() - started) / 1000)} s): ${line}`);
    last = line;
    await sleep(Math.max(input.pollMs, MIN_POLL_MS));
    polls++;
    try {
      link = await deps.fivetran.getPrivateLink(link.id);
    } catch (err) {
      // A poll is a GET: one that timed out or met a 5xx (after the client's own retries) ends
      // nothing; the wait goes on until waitMs with the state last read.
      if (!isTransientFivetranError(err)) throw err;
      deps.progress(`  Fivetran did not answer this poll (${(err as Error).message}); polling again`);
    }
  }
}
