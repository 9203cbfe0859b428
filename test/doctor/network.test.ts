import { describe, expect, it } from 'vitest';
import { decideIdleTimeout, decideVpcDns } from '../../lib/doctor/network.js';

const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/fivetran/0123456789abcdef/0123456789abcdef';

describe('nlb.idle-timeout', () => {
  it("warns at ELB's default 350 s (attribute absent), with the command that raises it", () => {
    const verdict = decideIdleTimeout(LISTENER, 5432, {});
    expect(verdict.status).toBe('warn');
    expect(verdict.message).toContain('idle for 350 s');
    expect(verdict.fix).toContain(`aws elbv2 modify-listener-attributes --listener-arn ${LISTENER} --attributes Key=tcp.idle_timeout.seconds,Value=3600`);
  });

  it('warns just below the recommended hour and passes at it', () => {
    expect(decideIdleTimeout(LISTENER, 5432, { 'tcp.idle_timeout.seconds': '3599' }).status).toBe('warn');
    expect(decideIdleTimeout(LISTENER, 5432, { 'tcp.idle_timeout.seconds': '3600' })).toEqual({ status: 'pass', message: 'listener on port 5432: TCP idle timeout 3600 s' });
  });
});

describe('vpc.dns', () => {
  it('passes with both attributes on', () => {
    expect(decideVpcDns('vpc-1', { dnsSupport: true, dnsHostnames: true }).status).toBe('pass');
  });

  it('names each attribute that is off and the command that turns it on', () => {
    const hostnames = decideVpcDns('vpc-1', { dnsSupport: true, dnsHostnames: false });
    expect(hostnames.status).toBe('warn');
    expect(hostnames.message).toMatch(/^vpc-1: enableDnsHostnames off/);
    expect(hostnames.fix).toBe(`aws ec2 modify-vpc-attribute --vpc-id vpc-1 --enable-dns-hostnames '{"Value":true}'`);
    const both = decideVpcDns('vpc-1', { dnsSupport: false, dnsHostnames: false });
    expect(both.message).toContain('enableDnsSupport, enableDnsHostnames off');
    expect(both.message).toContain('resolver at all');
    expect(both.fix).toContain('--enable-dns-support');
  });
});
