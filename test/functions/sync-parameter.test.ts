// The sync handler's cold start with SYNC_MAPPINGS_PARAMETER: the mappings JSON from SSM
// Parameter Store (past Lambda's 4 KB environment limit), validated like SYNC_MAPPINGS.
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readParameter } from '../../lib/aws/parameters.js';
import type { SyncSummary } from '../../lib/sync/run.js';
import { coldStart } from '../cold-start.js';
import scheduleEvent from '../events/scheduled.json' with { type: 'json' };
import { TG_A } from '../fixtures.js';
import { startDnsServer, type DnsServer } from '../harness/dns-server.js';

const ENDPOINT = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const PARAM = '/rds-nlb-sync/prod/mappings';
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const cwMock = mockClient(CloudWatchClient);
const ssmMock = mockClient(SSMClient);

let dns: DnsServer;
beforeAll(async () => {
  dns = await startDnsServer();
});
afterAll(() => dns.close());
beforeEach(() => {
  elbMock.reset();
  cwMock.reset();
  ssmMock.reset();
  elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
  elbMock.on(RegisterTargetsCommand).resolves({});
  cwMock.on(PutMetricDataCommand).resolves({});
  dns.setA(ENDPOINT, ['10.0.1.5']);
});

const env = () => ({ SYNC_MAPPINGS_PARAMETER: PARAM, DNS_SERVERS: dns.address, DNS_TIMEOUT_MS: '200', DNS_TRIES: '1' });
const load = () => coldStart<SyncSummary>(() => import('../../functions/sync.js'), env());

describe('sync handler with SYNC_MAPPINGS_PARAMETER', () => {
  it('reads the mappings from SSM once per cold start, decrypted, and syncs them', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: PARAM, Value: JSON.stringify([{ endpoint: ENDPOINT, targetGroupArn: TG_A, port: 5432 }]) } });
    const sync = await load();

    const summary = await sync(scheduleEvent);
    await sync(scheduleEvent);

    expect(ssmMock).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    expect(ssmMock).toHaveReceivedCommandWith(GetParameterCommand, { Name: PARAM, WithDecryption: true });
    expect(summary).toMatchObject({ outcome: 'success', mappings: [{ endpoint: ENDPOINT, added: ['10.0.1.5'] }] });
  });

  it('fails the cold start, naming the setting and the parameter, when SSM refuses', async () => {
    ssmMock.on(GetParameterCommand).rejects(Object.assign(new Error('Parameter /rds-nlb-sync/prod/mappings not found.'), { name: 'ParameterNotFound' }));

    await expect(load()).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining(`SYNC_MAPPINGS_PARAMETER: cannot read SSM parameter ${PARAM} (ParameterNotFound`),
    });
    expect(elbMock.calls()).toHaveLength(0);
  });

  it('fails the cold start when the parameter holds mappings SYNC_MAPPINGS would refuse', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify([{ endpoint: ENDPOINT, targetGroupArn: TG_A, port: true }]) } });

    await expect(load()).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining(`SYNC_MAPPINGS_PARAMETER (SSM parameter ${PARAM}): SYNC_MAPPINGS[0].port must be a TCP port number`),
    });
  });
});

describe('readParameter', () => {
  it('refuses a parameter without a value', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: PARAM, Value: ' ' } });
    await expect(readParameter(new SSMClient({}), PARAM)).rejects.toThrow(`SSM parameter ${PARAM} has no value`);
  });
});
