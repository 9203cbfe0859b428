import { describe, expect, it } from 'vitest';
import { fivetranLinkCheck, fivetranLinkVerdict } from '../../lib/doctor/fivetran.js';
import type { DoctorContext } from '../../lib/doctor/verdict.js';
import type { FivetranClient } from '../../lib/fivetran/client.js';
import type { PrivateLink } from '../../lib/fivetran/decide.js';

const NAME = 'com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0';
const FIVETRAN = ['834469178297'];
const link = (fields: Partial<PrivateLink> = {}): PrivateLink => ({ id: 'pl1', name: 'rds_x', region: 'AWS_EU_WEST_1', service: 'SOURCE_AWS', state: 'OK', config: { connection_service_name: NAME }, ...fields });
const accepted = [{ endpointId: 'vpce-0aaa', owner: '834469178297', state: 'available' }];

describe('fivetran.link verdict', () => {
  it('passes when the link is OK and Fivetran\'s endpoint connection is accepted', () => {
    expect(fivetranLinkVerdict(link(), accepted, FIVETRAN, NAME)).toMatchObject({ status: 'pass', message: expect.stringContaining('vpce-0aaa') });
  });

  it('fails without a link, naming the command that creates it', () => {
    expect(fivetranLinkVerdict(undefined, [], FIVETRAN, NAME)).toMatchObject({ status: 'fail', fix: expect.stringContaining('rds-nlb-sync fivetran link') });
  });

  it("fails on FAIL with Fivetran's state_summary", () => {
    expect(fivetranLinkVerdict(link({ state: 'FAIL', state_summary: 'connection rejected' }), accepted, FIVETRAN, NAME)).toMatchObject({ status: 'fail', message: expect.stringContaining('connection rejected') });
  });

  it('warns while Fivetran is still creating the link', () => {
    expect(fivetranLinkVerdict(link({ state: 'CREATING' }), [], FIVETRAN, NAME).status).toBe('warn');
  });

  it('fails when the link is OK but our side never accepted its endpoint (or only a stranger is available)', () => {
    const verdict = fivetranLinkVerdict(link(), [{ endpointId: 'vpce-0bbb', owner: '111122223333', state: 'available' }, { endpointId: 'vpce-0ccc', owner: '834469178297', state: 'pendingAcceptance' }], FIVETRAN, NAME);
    expect(verdict).toMatchObject({ status: 'fail', message: expect.stringContaining('vpce-0ccc pendingAcceptance') });
  });
});

describe('fivetran.link check', () => {
  it('finds the link for the service from the API and reads its connections', async () => {
    const client: FivetranClient = { listPrivateLinks: async () => [link({ id: 'other', config: { connection_service_name: 'x' } }), link()], getPrivateLink: async () => link(), createPrivateLink: async () => link(), deletePrivateLink: async () => ({ message: '' }) };
    const ctx = { reader: { connections: async () => accepted }, allowedAccounts: FIVETRAN } as unknown as DoctorContext;

    const verdict = await fivetranLinkCheck(client).run({ ServiceId: 'vpce-svc-0123456789abcdef0', ServiceName: NAME }, ctx);

    expect(verdict).toMatchObject({ status: 'pass', message: expect.stringContaining('Private Link pl1') });
  });
});
