import { describe, expect, it } from 'vitest';
import { decideConnections } from '../../lib/accept/decide.js';
import { ConfigError, FIVETRAN_ACCOUNT_ID, loadAcceptConfig } from '../../lib/config.js';

const FIVETRAN = FIVETRAN_ACCOUNT_ID;
const STRANGER = '111122223333';

describe('decideConnections', () => {
  it('accepts a connection whose owner is on the allowlist', () => {
    const d = decideConnections([{ endpointId: 'vpce-1', owner: FIVETRAN }], [FIVETRAN], { rejectUnlisted: false });

    expect(d).toEqual({ accept: [{ endpointId: 'vpce-1', owner: FIVETRAN, reason: 'owner allowlisted' }], reject: [], leave: [] });
  });

  // EC2 may list one connection twice (pages that shift under a paginated listing); a
  // de-duplication keyed on endpoint and owner together would decide it twice.
  it('decides an endpoint listed twice with different owner fields once, by its first listing', () => {
    const d = decideConnections([{ endpointId: 'vpce-1' }, { endpointId: 'vpce-1', owner: FIVETRAN }], [FIVETRAN], { rejectUnlisted: true });

    expect(d).toEqual({ accept: [], reject: [], leave: [{ endpointId: 'vpce-1', owner: null, reason: 'owner unknown' }] });
  });

  it('decides an endpoint listed as allowlisted, then as a stranger, once', () => {
    const d = decideConnections([{ endpointId: 'vpce-1', owner: FIVETRAN }, { endpointId: 'vpce-1', owner: STRANGER }], [FIVETRAN], { rejectUnlisted: true });

    expect(d).toEqual({ accept: [{ endpointId: 'vpce-1', owner: FIVETRAN, reason: 'owner allowlisted' }], reject: [], leave: [] });
  });

  it('leaves an unlisted owner pending, with the reason, by default', () => {
    const d = decideConnections([{ endpointId: 'vpce-2', owner: STRANGER }], [FIVETRAN], { rejectUnlisted: false });

    expect(d).toEqual({ accept: [], reject: [], leave: [{ endpointId: 'vpce-2', owner: STRANGER, reason: 'owner not allowlisted' }] });
  });

  it('rejects an unlisted owner when rejectUnlisted is set', () => {
    const d = decideConnections([{ endpointId: 'vpce-2', owner: STRANGER }], [FIVETRAN], { rejectUnlisted: true });

    expect(d.reject).toEqual([{ endpointId: 'vpce-2', owner: STRANGER, reason: 'owner not allowlisted (REJECT_UNLISTED)' }]);
    expect(d.accept).toEqual([]);
    expect(d.leave).toEqual([]);
  });

  it('splits a mixed batch by owner', () => {
    const d = decideConnections(
      [
        { endpointId: 'vpce-a', owner: FIVETRAN },
        { endpointId: 'vpce-b', owner: STRANGER },
        { endpointId: 'vpce-c', owner: '444455556666' },
        { endpointId: 'vpce-d', owner: FIVETRAN },
      ],
      [FIVETRAN, '444455556666'],
      { rejectUnlisted: true },
    );

    expect(d.accept.map((x) => x.endpointId)).toEqual(['vpce-a', 'vpce-c', 'vpce-d']);
    expect(d.reject.map((x) => x.endpointId)).toEqual(['vpce-b']);
    expect(d.leave).toEqual([]);
  });

  it('never accepts or rejects a connection whose owner EC2 did not name', () => {
    for (const rejectUnlisted of [false, true]) {
      const d = decideConnections([{ endpointId: 'vpce-x' }], [FIVETRAN], { rejectUnlisted });

      expect(d).toEqual({ accept: [], reject: [], leave: [{ endpointId: 'vpce-x', owner: null, reason: 'owner unknown' }] });
    }
  });

  it('never accepts anyone with an empty allowlist', () => {
    const d = decideConnections([{ endpointId: 'vpce-1', owner: FIVETRAN }], [], { rejectUnlisted: false });

    expect(d.accept).toEqual([]);
    expect(d.leave).toHaveLength(1);
  });

  it('does not match an owner by prefix or with stray characters', () => {
    const d = decideConnections(
      [
        { endpointId: 'vpce-1', owner: `${FIVETRAN}0` },
        { endpointId: 'vpce-2', owner: ` ${FIVETRAN}` },
        { endpointId: 'vpce-3', owner: `arn:aws:iam::${FIVETRAN}:root` },
      ],
      [FIVETRAN],
      { rejectUnlisted: false },
    );

    expect(d.accept).toEqual([]);
    expect(d.leave).toHaveLength(3);
  });

  it('decides each endpoint once when a listing repeats it', () => {
    const d = decideConnections(
      [
        { endpointId: 'vpce-1', owner: FIVETRAN },
        { endpointId: 'vpce-1', owner: FIVETRAN },
      ],
      [FIVETRAN],
      { rejectUnlisted: false },
    );

    expect(d.accept).toHaveLength(1);
  });
});

describe('ALLOWED_PRINCIPALS (loadAcceptConfig)', () => {
  const env = { ENDPOINT_SERVICE_IDS: 'vpce-svc-0123456789abcdef0' };

  it("defaults to Fivetran's account", () => {
    expect(loadAcceptConfig(env).allowedAccounts).toEqual([FIVETRAN]);
  });

  it('takes root ARNs and bare account IDs, as account IDs', () => {
    const config = loadAcceptConfig({ ...env, ALLOWED_PRINCIPALS: `arn:aws:iam::${FIVETRAN}:root, 444455556666` });

    expect(config.allowedAccounts).toEqual([FIVETRAN, '444455556666']);
  });

  it.each(['83446917829', 'arn:aws:iam::834469178297:user/fivetran', 'fivetran', '*'])('refuses the malformed entry %s at cold start', (entry) => {
    expect(() => loadAcceptConfig({ ...env, ALLOWED_PRINCIPALS: entry })).toThrow(ConfigError);
    expect(() => loadAcceptConfig({ ...env, ALLOWED_PRINCIPALS: entry })).toThrow(/ALLOWED_PRINCIPALS/);
  });

  it('leaves unlisted connections pending unless REJECT_UNLISTED is true', () => {
    expect(loadAcceptConfig(env).rejectUnlisted).toBe(false);
    expect(loadAcceptConfig({ ...env, REJECT_UNLISTED: 'true' }).rejectUnlisted).toBe(true);
  });
});
