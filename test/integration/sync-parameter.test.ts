// The real sync handler reading SYNC_MAPPINGS_PARAMETER from moto's SSM Parameter Store at cold
// start, then syncing against moto's ELB and the loopback DNS server.
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncSummary } from '../../lib/sync/run.js';
import { coldStart } from '../cold-start.js';
import scheduleEvent from '../events/scheduled.json' with { type: 'json' };
import { emulatorClientConfig, emulatorEnv, motoOrSkip, readTargets, startEmulators, type Emulators } from '../harness/index.js';

const ORDERS = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const PARAM = '/rds-nlb-sync/test/mappings';

describe.skipIf(!motoOrSkip())('sync with SYNC_MAPPINGS_PARAMETER against the AWS emulator', () => {
  let emulators: Emulators;
  beforeAll(async () => {
    emulators = await startEmulators();
    emulators.dns.setA(ORDERS, ['10.0.1.5']);
  });
  afterAll(() => emulators?.stop());

  it('reads the mappings from a SecureString parameter and registers the endpoint', async () => {
    const targetGroupArn = emulators.aws.targetGroupArns[0] ?? '';
    const ssm = new SSMClient(emulatorClientConfig(emulators.moto.endpoint));
    await ssm.send(
      new PutParameterCommand({ Name: PARAM, Type: 'SecureString', Overwrite: true, Value: JSON.stringify([{ endpoint: ORDERS, targetGroupArn, port: 5432 }]) }),
    );
    ssm.destroy();

    const sync = await coldStart<SyncSummary>(() => import('../../functions/sync.js'), {
      ...emulatorEnv(emulators),
      SYNC_MAPPINGS_PARAMETER: PARAM,
      DNS_TIMEOUT_MS: '300',
      DNS_TRIES: '1',
    });
    const summary = await sync(scheduleEvent);

    expect(summary).toMatchObject({ outcome: 'success', mappings: [{ endpoint: ORDERS, added: ['10.0.1.5'] }] });
    expect((await readTargets(emulators.elb.endpoint, targetGroupArn)).map((t) => t.ip)).toEqual(['10.0.1.5']);
  });

  it('fails the cold start naming the parameter when it does not exist', async () => {
    const load = coldStart(() => import('../../functions/sync.js'), { ...emulatorEnv(emulators), SYNC_MAPPINGS_PARAMETER: '/rds-nlb-sync/test/missing' });

    await expect(load).rejects.toMatchObject({ name: 'ConfigError', message: expect.stringContaining('cannot read SSM parameter /rds-nlb-sync/test/missing (ParameterNotFound') });
  });
});
