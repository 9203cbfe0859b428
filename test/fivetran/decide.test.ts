import { describe, expect, it } from 'vitest';
import {
  endpointServiceName,
  findLink,
  fivetranRegion,
  isValidLinkName,
  linkNameFor,
  linkProgress,
  supportRequest,
  UnsupportedRegionError,
  type PrivateLink,
} from '../../lib/fivetran/decide.js';

const SERVICE = 'com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0';
const link = (fields: Partial<PrivateLink>): PrivateLink => ({ id: 'pl1', name: 'n', region: 'AWS_EU_WEST_1', service: 'SOURCE_AWS', state: 'OK', ...fields });

describe('fivetranRegion', () => {
  it('maps an AWS region to the Fivetran region code', () => {
    expect(fivetranRegion('eu-west-1')).toBe('AWS_EU_WEST_1');
    expect(fivetranRegion('us-gov-west-1')).toBe('AWS_US_GOV_WEST_1');
  });

  it('refuses a region Fivetran does not list, naming the ones it does', () => {
    expect(() => fivetranRegion('sa-east-1')).toThrow(UnsupportedRegionError);
    expect(() => fivetranRegion('sa-east-1')).toThrow(/sa-east-1.*eu-west-1, eu-west-2/);
  });
});

describe('link names and service names', () => {
  it('derives a name Fivetran accepts (letters, digits, underscores, at most 23) from the service ID', () => {
    const name = linkNameFor('vpce-svc-0123456789abcdef0');
    expect(name).toBe('rds_0123456789abcdef0');
    expect(isValidLinkName(name)).toBe(true);
    expect(isValidLinkName('1abc')).toBe(false);
    expect(isValidLinkName('a'.repeat(24))).toBe(false);
  });

  it('builds the endpoint service name EC2 gives the service', () => {
    expect(endpointServiceName('eu-west-1', 'vpce-svc-0123456789abcdef0')).toBe(SERVICE);
  });
});

describe('findLink', () => {
  it('finds the link whose config names our endpoint service, ignoring the others', () => {
    const ours = link({ id: 'ours', config: { connection_service_name: SERVICE } });
    expect(findLink([link({ id: 'other', config: { connection_service_name: 'com.amazonaws.vpce.eu-west-1.vpce-svc-0ffffffffffffffff' } }), ours], SERVICE)?.id).toBe('ours');
    expect(findLink([link({ config: {} })], SERVICE)).toBeUndefined();
  });

  it('prefers a live link to one being destroyed', () => {
    const dying = link({ id: 'dying', state: 'DESTROYING', config: { connection_service_name: SERVICE } });
    const live = link({ id: 'live', state: 'CREATING', config: { connection_service_name: SERVICE } });
    expect(findLink([dying, live], SERVICE)?.id).toBe('live');
    expect(findLink([dying], SERVICE)?.id).toBe('dying');
  });
});

describe('linkProgress', () => {
  it('waits through CREATING and UPDATING, ends on OK, and fails on FAIL with the summary', () => {
    expect(linkProgress(link({ state: 'CREATING' }))).toEqual({ done: false, waitingFor: 'Fivetran: CREATING' });
    expect(linkProgress(link({ state: 'UPDATING', state_summary: 'x' })).done).toBe(false);
    expect(linkProgress(link({ state: 'OK' }))).toEqual({ done: true, ok: true });
    expect(linkProgress(link({ state: 'FAIL', state_summary: 'endpoint rejected' }))).toEqual({ done: true, ok: false, why: 'Fivetran says: endpoint rejected' });
    expect(linkProgress(link({ state: 'DESTROYING' }))).toMatchObject({ done: true, ok: false });
  });
});

describe('supportRequest', () => {
  it('names the endpoint service, the region and the account', () => {
    const text = supportRequest({ serviceName: SERVICE, region: 'eu-west-1', account: '123456789012', reason: 'no API key' });
    expect(text).toContain(`VPC endpoint service name: ${SERVICE}`);
    expect(text).toContain('AWS region: eu-west-1');
    expect(text).toContain('AWS account: 123456789012');
  });
});
