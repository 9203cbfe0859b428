// The real accept handler, SDK client and adapter against the emulator: moto for the endpoint
// service and its discovery from the NLB, and the harness's EC2 front for the connections
// (moto has none; see test/harness/endpoint-connections.ts). No call is stubbed.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AcceptSummary } from '../../lib/accept/run.js';
import { FIVETRAN_ACCOUNT_ID } from '../../lib/config.js';
import { coldStart } from '../cold-start.js';
import notificationTemplate from '../events/sns-connection-notification.json' with { type: 'json' };
import { connectionNotification, emulatorEnv, motoOrSkip, startEmulators, startSilentServer, type Emulators } from '../harness/index.js';

const STRANGER = '111122223333';

describe.skipIf(!motoOrSkip())('accept against the AWS emulator', () => {
  let emulators: Emulators;

  beforeAll(async () => {
    // Pages of 5 when no MaxResults is sent, so a dozen connections take three pages.
    emulators = await startEmulators({ connections: { defaultPageSize: 5 } });
  });
  beforeEach(() => emulators.connections.reset());
  afterAll(async () => {
    await emulators?.stop();
  });

  const handler = (extra: Record<string, string> = {}) =>
    coldStart<AcceptSummary>(() => import('../../functions/accept.js'), {
      ...emulatorEnv(emulators),
      LOAD_BALANCER_ARNS: emulators.aws.loadBalancerArn,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      ...extra,
    });
  const consumer = (owner: string) => emulators.connections.createConsumerEndpoint({ serviceId: emulators.aws.serviceId, owner });
  const notice = (endpointId: string) => connectionNotification(notificationTemplate, { endpointId, serviceId: emulators.aws.serviceId });

  it("accepts Fivetran's endpoint on its connection notification and leaves an unlisted account pending", async () => {
    const fivetran = await consumer(FIVETRAN_ACCOUNT_ID);
    const stranger = await consumer(STRANGER);
    expect(emulators.connections.state(fivetran)).toBe('pendingAcceptance');
    const accept = await handler();

    const summary = await accept(notice(fivetran));

    expect(summary).toMatchObject({ trigger: 'notification', outcome: 'success', totals: { pending: 2, accepted: 1, left: 1, stillPending: 1 } });
    expect(summary.services[0]?.serviceId).toBe(emulators.aws.serviceId);
    expect(summary.services[0]?.left).toEqual([{ endpointId: stranger, owner: STRANGER, reason: 'owner not allowlisted' }]);
    expect(emulators.connections.state(fivetran)).toBe('available');
    expect(emulators.connections.state(stranger)).toBe('pendingAcceptance');
  });

  it('rejects the unlisted account with REJECT_UNLISTED and never accepts it', async () => {
    const fivetran = await consumer(FIVETRAN_ACCOUNT_ID);
    const stranger = await consumer(STRANGER);
    const accept = await handler({ REJECT_UNLISTED: 'true' });

    const summary = await accept(notice(fivetran));

    expect(summary.totals).toMatchObject({ accepted: 1, rejected: 1, stillPending: 0 });
    expect(emulators.connections.state(fivetran)).toBe('available');
    expect(emulators.connections.state(stranger)).toBe('rejected');
  });

  it('reads every page of pending connections and accepts all of them in one call', async () => {
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push(await consumer(FIVETRAN_ACCOUNT_ID));
    const accept = await handler();

    const summary = await accept({});

    expect(summary.totals).toMatchObject({ pending: 12, accepted: 12, stillPending: 0 });
    expect(emulators.connections.calls('DescribeVpcEndpointConnections')).toBe(3);
    expect(emulators.connections.calls('AcceptVpcEndpointConnections')).toBe(1);
    expect(ids.map((id) => emulators.connections.state(id))).toEqual(ids.map(() => 'available'));
  });

  it('reports an endpoint EC2 lists as Unsuccessful as a failure, accepts the rest, and fails the run', async () => {
    const good = await consumer(FIVETRAN_ACCOUNT_ID);
    const bad = await consumer(FIVETRAN_ACCOUNT_ID);
    emulators.connections.failNext(bad, { code: 'InvalidState', message: 'the endpoint changed state meanwhile' });
    const accept = await handler();

    await expect(accept({})).rejects.toThrow(/accept run failed with 1 error/);

    expect(emulators.connections.state(good)).toBe('available');
    expect(emulators.connections.state(bad)).toBe('pendingAcceptance');
  });

  it('accepts nothing on a second run: the accepted endpoint is no longer pending', async () => {
    await consumer(FIVETRAN_ACCOUNT_ID);
    const accept = await handler();
    await accept({});

    const again = await accept({});

    expect(again.totals).toMatchObject({ pending: 0, accepted: 0 });
    expect(emulators.connections.calls('AcceptVpcEndpointConnections')).toBe(1);
  });

  it('accepts and succeeds, well inside the Lambda timeout, when CloudWatch accepts TCP and never answers', async () => {
    const fivetran = await consumer(FIVETRAN_ACCOUNT_ID);
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      const accept = await handler({ AWS_ENDPOINT_URL_CLOUDWATCH: silent.url });

      const summary = await accept(notice(fivetran));

      expect(summary).toMatchObject({ outcome: 'success', metricsSent: false, totals: { accepted: 1 } });
      expect(emulators.connections.state(fivetran)).toBe('available');
      expect(silent.connections()).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(10_000); // the function's timeout is 30 s
    } finally {
      await silent.close();
    }
  });
});
