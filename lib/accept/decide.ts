// The accept decision, pure: which pending connections to accept, reject or leave.
// The safety rule: an owner that is not on the allowlist is never accepted.


export interface ConnectionRequest {
  endpointId: string;
  /** VpcEndpointOwner: the consumer's account ID. */
  owner?: string;
}

export interface Decision {
  endpointId: string;
  /** null when EC2 did not name the owner. */
  owner: string | null;
  reason: string;
}

export interface Decisions {
  accept: Decision[];
  reject: Decision[];
  leave: Decision[];
}

export interface DecideOptions {
  /** Reject connections from unlisted owners instead of leaving them pending. */
  rejectUnlisted: boolean;
}

export function decideConnections(connections: ConnectionRequest[], allowedAccounts: readonly string[], options: DecideOptions): Decisions {
  const allowed = new Set(allowedAccounts);
  const decisions: Decisions = { accept: [], reject: [], leave: [] };
  const seen = new Set<string>();
  for (const { endpointId, owner } of connections) {
    if (seen.has(endpointId)) continue;
    seen.add(endpointId);
    if (!owner) {
      // Cannot be shown to be on the list, and rejecting on missing data is not ours to do.
      decisions.leave.push({ endpointId, owner: null, reason: 'owner unknown' });
    } else if (allowed.has(owner)) {
      decisions.accept.push({ endpointId, owner, reason: 'owner allowlisted' });
    } else if (options.rejectUnlisted) {
      decisions.reject.push({ endpointId, owner, reason: 'owner not allowlisted (REJECT_UNLISTED)' });
    } else {
      decisions.leave.push({ endpointId, owner, reason: 'owner not allowlisted' });
    }
  }
  return decisions;
}
