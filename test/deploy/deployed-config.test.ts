// The environment serverless.yml sets (read with `serverless print`) must parse with the same
// config code the functions run at cold start: a deploy-time typo in a variable name or format
// would otherwise surface only as a failing Lambda.
import { describe, expect, it } from 'vitest';
import { loadAcceptConfig, loadSyncConfig } from '../../lib/config.js';
import { deployedEnv } from '../harness/deployed-env.js';

const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/fivetran-db/0123456789abcdef';
const NLB = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/fivetran-db/0123456789abcdef';
// `serverless print` resolves the whole file (deploy/params.cjs compiles lib/config.ts with tsx
// to check the environment): ~15 s alone, much more on a busy CI machine.
const PRINT_TIMEOUT_MS = 60_000;

describe('the environment serverless.yml gives the functions', () => {
  it('parses for the single-endpoint parameters, with the documented defaults', async () => {
    const env = await deployedEnv({ rdsEndpoint: 'db.abc123.eu-west-1.rds.amazonaws.com', targetGroupArn: TG, targetPort: '5432', endpointServiceIds: 'vpce-svc-0123456789abcdef0' });

    expect(loadSyncConfig(env.sync)).toEqual({
      mappings: [{ endpoint: 'db.abc123.eu-west-1.rds.amazonaws.com', targetGroupArn: TG, port: 5432, ipAddressType: 'ipv4' }],
      dns: { servers: [], timeoutMs: 2000, tries: 2 },
      failoverWatchMs: 180_000,
      failoverPollMs: 2000,
      failoverFollowMs: 600_000,
      failoverFollowPollMs: 5000,
      scheduleIntervalMs: 60_000,
      concurrency: 10,
      targetReadsPerRun: 300,
      metricsNamespace: 'RdsNlbSync',
      mappingMetrics: 'changes',
      dryRun: false,
    });
    expect(loadAcceptConfig(env.accept)).toMatchObject({ serviceIds: ['vpce-svc-0123456789abcdef0'], allowedAccounts: ['834469178297'], rejectUnlisted: false });
  }, PRINT_TIMEOUT_MS);

  it('parses for a mappings list, NLB discovery and a custom allowlist', async () => {
    const mappings = [
      { endpoint: 'orders.cluster-abc123.eu-west-1.rds.amazonaws.com', targetGroupArn: TG, port: 5432 },
      { endpoint: 'billing.abc123.eu-west-1.rds.amazonaws.com', targetGroupArn: TG, port: 3306, availabilityZone: 'all' },
    ];
    const env = await deployedEnv({
      syncMappings: JSON.stringify(mappings),
      loadBalancerArns: NLB,
      allowedPrincipals: 'arn:aws:iam::834469178297:root,111122223333',
      rejectUnlisted: 'true',
      dnsServers: '10.0.0.2',
      dryRun: 'true',
    });

    const sync = loadSyncConfig(env.sync);
    expect(sync.mappings.map((m) => [m.endpoint, m.port, m.availabilityZone])).toEqual([
      ['orders.cluster-abc123.eu-west-1.rds.amazonaws.com', 5432, undefined],
      ['billing.abc123.eu-west-1.rds.amazonaws.com', 3306, 'all'],
    ]);
    expect(sync).toMatchObject({ dns: { servers: ['10.0.0.2'] }, dryRun: true });
    expect(loadAcceptConfig(env.accept)).toMatchObject({ loadBalancerArns: [NLB], allowedAccounts: ['834469178297', '111122223333'], rejectUnlisted: true, dryRun: true });
  }, PRINT_TIMEOUT_MS);
});
