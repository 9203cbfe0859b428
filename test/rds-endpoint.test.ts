import { describe, expect, it } from 'vitest';
import { isMemberSet, parseRdsEndpoint } from '../lib/rds-endpoint.js';

describe('parseRdsEndpoint', () => {
  it.each([
    ['orders.c0ffee12abcd.eu-west-1.rds.amazonaws.com', 'instance', 'orders'],
    ['orders.cluster-c0ffee12abcd.eu-west-1.rds.amazonaws.com', 'cluster', 'orders'],
    ['orders.cluster-ro-c0ffee12abcd.eu-west-1.rds.amazonaws.com', 'reader', 'orders'],
    ['analytics.cluster-custom-c0ffee12abcd.eu-west-1.rds.amazonaws.com', 'custom', 'analytics'],
    ['orders-proxy.proxy-c0ffee12abcd.eu-west-1.rds.amazonaws.com', 'proxy', 'orders-proxy'],
    ['ro.endpoint.proxy-c0ffee12abcd.eu-west-1.rds.amazonaws.com', 'proxy', 'ro'],
    ['orders.cluster-c0ffee12abcd.cn-north-1.rds.amazonaws.com.cn', 'cluster', 'orders'],
    ['Orders.CLUSTER-RO-C0FFEE12ABCD.us-gov-west-1.rds.amazonaws.com.', 'reader', 'orders'],
  ])('reads %s as %s %s', (hostname, kind, identifier) => {
    expect(parseRdsEndpoint(hostname)).toMatchObject({ kind, identifier });
  });

  it('names the region of an RDS endpoint', () => {
    expect(parseRdsEndpoint('orders.cluster-ro-c0ffee12abcd.ap-southeast-2.rds.amazonaws.com').region).toBe('ap-southeast-2');
  });

  it.each(['db.example.com', 'orders.cluster-ro-c0ffee.eu-west-1.example.com', 'x.endpoint.cluster-ro-abc.eu-west-1.rds.amazonaws.com', 'localhost'])(
    'reads %s as other (DNS is all we know)',
    (hostname) => {
      expect(parseRdsEndpoint(hostname).kind).toBe('other');
    },
  );
});

describe('isMemberSet', () => {
  it('is true for reader and custom endpoints only', () => {
    expect(isMemberSet('orders.cluster-ro-c0ffee12abcd.eu-west-1.rds.amazonaws.com')).toBe(true);
    expect(isMemberSet('analytics.cluster-custom-c0ffee12abcd.eu-west-1.rds.amazonaws.com')).toBe(true);
    expect(isMemberSet('orders.cluster-c0ffee12abcd.eu-west-1.rds.amazonaws.com')).toBe(false);
    expect(isMemberSet('orders.c0ffee12abcd.eu-west-1.rds.amazonaws.com')).toBe(false);
    expect(isMemberSet('orders-proxy.proxy-c0ffee12abcd.eu-west-1.rds.amazonaws.com')).toBe(false);
  });
});
