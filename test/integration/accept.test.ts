// The real accept handler against moto: endpoint service discovery from the NLB ARN runs on the
// emulator. moto 5.2 does not implement DescribeVpcEndpointConnections / Accept / Reject (HTTP
// 500), so exactly those calls are stubbed on the EC2 client; every other call goes through.
import { AcceptVpcEndpointConnectionsCommand, DescribeVpcEndpointConnectionsCommand, DescribeVpcEndpointServiceConfigurationsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AcceptSummary } from '../../lib/accept/run.js';
import { coldStart } from '../cold-start.js';
import notification from '../events/sns-connection-notification.json' with { type: 'json' };
import { emulatorEnv, motoOrSkip, startEmulators, startSilentServer, type Emulators } from '../harness/index.js';

const FIVETRAN = '834469178297';
const STRANGER = '111122223333';

describe.skipIf(!motoOrSkip())('accept against the AWS emulator', () => {
  let emulators: Emulators;
  let ec2Mock: AwsClientStub<EC2Client>;

  beforeAll(async () => {
    emulators = await startEmulators();
    // Mocked after seeding, which uses EC2 too; unmatched commands still reach moto.
    ec2Mock = mockClient(EC2Client);
    ec2Mock.send.callThrough();
    ec2Mock.on(DescribeVpcEndpointConnectionsCommand).resolves({
      VpcEndpointConnections: [
        { ServiceId: emulators.aws.serviceId, VpcEndpointId: 'vpce-0aaaaaaaaaaaaaaa1', VpcEndpointOwner: FIVETRAN, VpcEndpointState: 'pendingAcceptance' as never },
        { ServiceId: emulators.aws.serviceId, VpcEndpointId: 'vpce-0bbbbbbbbbbbbbbb2', VpcEndpointOwner: STRANGER, VpcEndpointState: 'pendingAcceptance' as never },
      ],
    });
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({ Unsuccessful: [] });
  });
  afterAll(async () => {
    ec2Mock?.restore();
    await emulators?.stop();
  });

  it("finds the endpoint service from the NLB and accepts only Fivetran's connection", async () => {
    const accept = await coldStart<AcceptSummary>(() => import('../../functions/accept.js'), {
      ...emulatorEnv(emulators),
      LOAD_BALANCER_ARNS: emulators.aws.loadBalancerArn,
    });

    const summary = await accept(notification);

    expect(ec2Mock).toHaveReceivedCommandWith(DescribeVpcEndpointServiceConfigurationsCommand, {});
    expect(summary).toMatchObject({ trigger: 'notification', outcome: 'success', totals: { pending: 2, accepted: 1, left: 1, stillPending: 1 } });
    expect(summary.services[0]?.serviceId).toBe(emulators.aws.serviceId);
    expect(ec2Mock).toHaveReceivedCommandWith(AcceptVpcEndpointConnectionsCommand, { ServiceId: emulators.aws.serviceId, VpcEndpointIds: ['vpce-0aaaaaaaaaaaaaaa1'] });
  });

  it('accepts and succeeds, well inside the Lambda timeout, when CloudWatch accepts TCP and never answers', async () => {
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      const accept = await coldStart<AcceptSummary>(() => import('../../functions/accept.js'), {
        ...emulatorEnv(emulators),
        LOAD_BALANCER_ARNS: emulators.aws.loadBalancerArn,
        AWS_ENDPOINT_URL_CLOUDWATCH: silent.url,
      });

      const summary = await accept(notification);

      expect(summary).toMatchObject({ outcome: 'success', metricsSent: false, totals: { accepted: 1 } });
      expect(silent.connections()).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(10_000); // the function's timeout is 30 s
    } finally {
      await silent.close();
    }
  });
});
