// `npm run local`: the real sync handler, with the environment serverless.yml gives it, against
// moto (AWS API emulator) and a DNS server on 127.0.0.1. It registers the writer, shows a
// steady-state run, then simulates an Aurora failover and follows it, printed as a timeline: our
// terms measured, ELB's registration and health checks modelled (test/harness/elb-timing.ts,
// AWS's figures run at LOCAL_ELB_SCALE, the unscaled figure beside them). Then the Fivetran side:
// `fivetran link` against a fake Fivetran API creates the Private Link, Fivetran's endpoint
// appears pendingAcceptance, the SNS connection notification reaches the real accept handler,
// which accepts it (an unlisted account stays pending), and the link turns OK. No AWS account
// and no Fivetran account needed; nothing leaves 127.0.0.1.
// `npm run local -- --verbose` also prints the functions' JSON log lines.
import type { AcceptSummary } from '../lib/accept/run.js';
import { FIVETRAN_ACCOUNT_ID } from '../lib/config.js';
import { createFivetranClient } from '../lib/fivetran/client.js';
import { linkEndpointService } from '../lib/fivetran/link.js';
import type { SyncSummary } from '../lib/sync/run.js';
import notificationTemplate from '../test/events/sns-connection-notification.json' with { type: 'json' };
import rdsEvent from '../test/events/rds-cluster-failover.json' with { type: 'json' };
import scheduleEvent from '../test/events/scheduled.json' with { type: 'json' };
import {
  connectionNotification,
  deployedEnv,
  FIVETRAN_PRINCIPAL,
  emulatorEnv,
  MOTO_INSTALL_HINT,
  motoAvailable,
  readMetrics,
  readTargets,
  startEmulators,
  startFakeFivetran,
  toHealthyMs,
  type Emulators,
} from '../test/harness/index.js';

const CLUSTER = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const WRITER_1 = 'orders-1.c0ffee.eu-west-1.rds.amazonaws.com';
const WRITER_2 = 'orders-2.c0ffee.eu-west-1.rds.amazonaws.com';
const FLIP_AFTER_MS = 3000;
const STRANGER = '111122223333';
/** AWS's ELB terms at 1/100: registration 180 s -> 1.8 s, health checks 2 x 5 s -> 0.1 s. */
const LOCAL_ELB_SCALE = 0.01;

const verbose = process.argv.includes('--verbose');
const started = Date.now();
const say = (line = '') => console.log(line);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  if (!motoAvailable()) {
    console.error(MOTO_INSTALL_HINT);
    process.exitCode = 1;
    return;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // The service also lets a second account connect (as a leftover permission might): the accept
  // function must still leave it pending, as it is not in ALLOWED_PRINCIPALS.
  const emulators = await startEmulators({
    seed: { allowedPrincipals: [FIVETRAN_PRINCIPAL, `arn:aws:iam::${STRANGER}:root`] },
    elb: { scale: LOCAL_ELB_SCALE },
  });
  const stop = () => emulators.stop();
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  try {
    await story(emulators);
  } finally {
    await stop();
    say(`\nStopped moto and the DNS server. Whole run: ${seconds(Date.now() - started)}.`);
  }
}

async function story(emulators: Emulators): Promise<void> {
  const { aws, dns, moto, elb } = emulators;
  const targetGroupArn = aws.targetGroupArns[0] ?? '';
  say(`moto (AWS emulator) on ${moto.endpoint}, DNS server on ${dns.address}`);
  const u = elb.unscaled;
  say(
    `ELB target timing modelled (moto has none): registration ${seconds(u.registrationMs)}, health checks ${u.healthyThreshold} x ${seconds(u.intervalMs)}, ` +
      `draining ${seconds(u.deregistrationMs)}; run here at x${elb.scale}`,
  );
  say(`Seeded: ${aws.vpcId}, NLB ${aws.loadBalancerArn.split(':').at(-1)}, IP target group ${targetGroupArn.split(':').at(-1)} (TCP 5432),`);
  say(`        endpoint service ${aws.serviceId} allowing Fivetran (arn:aws:iam::834469178297:root) and account ${STRANGER}`);

  // The Aurora cluster endpoint is a CNAME to the writer instance, as in RDS.
  dns.setCname(CLUSTER, WRITER_1);
  dns.setA(WRITER_1, ['10.0.1.23']);
  dns.setA(WRITER_2, ['10.0.2.47']);

  const env = await deployedEnv({
    rdsEndpoint: CLUSTER,
    targetGroupArn,
    targetPort: '5432',
    endpointServiceIds: aws.serviceId,
    dnsServers: dns.address,
    logLevel: verbose ? 'INFO' : 'SILENT',
  });
  say(`Environment from serverless.yml (serverless print --stage local): ${Object.keys(env.sync).join(', ')}`);
  Object.assign(process.env, env.sync, env.accept, emulatorEnv(emulators));
  const { handler } = await import('../functions/sync.js');
  const context = { functionName: 'rds-nlb-sync-local-sync', awsRequestId: 'local', getRemainingTimeInMillis: () => 102_000 };
  const sync = (event: unknown) => handler(event, context as never) as Promise<SyncSummary>;
  const show = async () => {
    const targets = await readTargets(elb.endpoint, targetGroupArn);
    return targets.length ? targets.map((t) => `${t.ip}:${t.port} ${t.state}`).join(', ') : '(empty)';
  };

  say(`\n1. First scheduled sync: ${CLUSTER} -> ${WRITER_1} -> 10.0.1.23`);
  say(`   target group before: ${await show()}`);
  report(await sync(scheduleEvent));
  say(`   target group after:  ${await show()}`);
  await elb.settled(targetGroupArn, 60_000);
  say(`   ELB registers and checks it: ${await show()} (modelled: ${seconds(toHealthyMs(elb.timing))} here, ${seconds(toHealthyMs(u))} on AWS)`);

  say('\n2. Next scheduled sync, nothing changed in DNS');
  report(await sync(scheduleEvent));

  say(`\n3. Failover: RDS sends ${rdsEvent.detail.EventID} ("${rdsEvent.detail.Message}"); DNS follows ${seconds(FLIP_AFTER_MS)} later`);
  let flippedAt = 0;
  const flip = setTimeout(() => {
    dns.setCname(CLUSTER, WRITER_2);
    flippedAt = Date.now();
  }, FLIP_AFTER_MS);
  const failoverStarted = Date.now();
  const failover = await sync(rdsEvent).finally(() => clearTimeout(flip));
  report(failover);
  await elb.settled(targetGroupArn, 60_000);
  say(`   target group after:  ${await show()}`);
  timeline(elb.history(targetGroupArn), { eventAt: failoverStarted, dnsAt: flippedAt, newIp: '10.0.2.47', oldIp: '10.0.1.23', scale: elb.scale, unscaled: u });

  say('\n4. Metrics read back from the emulator\'s CloudWatch (namespace RdsNlbSync, run level):');
  const metrics = await readMetrics(moto.endpoint, env.sync.METRICS_NAMESPACE ?? 'RdsNlbSync');
  for (const name of ['SyncSuccess', 'SyncDuration']) {
    const m = metrics.find((x) => x.name === name && Object.keys(x.dimensions).length === 0);
    if (m) say(`   ${name.padEnd(18)} ${m.count} datapoints, sum ${Math.round(m.sum)}`);
  }
  say(`   per target group (${targetGroupArn.split(':').at(-1)}):`);
  for (const m of metrics.filter((x) => x.dimensions.TargetGroup)) say(`   ${m.name.padEnd(18)} ${m.count} datapoints, sum ${m.sum}, max ${m.maximum}`);

  await fivetranStory(emulators);
}

async function fivetranStory(emulators: Emulators): Promise<void> {
  const { aws, connections } = emulators;
  const { handler } = await import('../functions/accept.js');
  const context = { functionName: 'rds-nlb-sync-local-accept', awsRequestId: 'local', getRemainingTimeInMillis: () => 60_000 };
  const accept = (event: unknown) => handler(event, context as never) as Promise<AcceptSummary>;
  const deliveries: Promise<void>[] = [];

  // Fivetran's side, played by the fake API: creating the link makes Fivetran's interface
  // endpoint to our service (pendingAcceptance), and the endpoint service's connection
  // notification goes to the accept function through SNS a moment later. The link turns OK
  // once that connection is available.
  const fivetran = await startFakeFivetran({
    onCreate: async () => {
      const endpointId = await connections.createConsumerEndpoint({ serviceId: aws.serviceId, owner: FIVETRAN_ACCOUNT_ID });
      say(`   Fivetran creates interface endpoint ${endpointId} to our service: ${connections.state(endpointId)}`);
      const event = connectionNotification(notificationTemplate, { endpointId, serviceId: aws.serviceId });
      deliveries.push(
        new Promise<void>((resolve) => setTimeout(resolve, 400)).then(async () => {
          say(`   SNS connection notification (Connect, ${endpointId}) -> accept function`);
          const summary = await accept(event);
          for (const s of summary.services) {
            say(`   accept ${summary.outcome}: accepted ${s.accepted.map((d) => `${d.endpointId} (${d.owner})`).join(', ') || '-'}; left pending ${s.left.map((d) => `${d.endpointId} (${d.owner}: ${d.reason})`).join(', ') || '-'}`);
          }
        }),
      );
    },
    settle: () => (connections.connections().some((c) => c.owner === FIVETRAN_ACCOUNT_ID && c.state === 'available') ? { state: 'OK' } : undefined),
  });
  try {
    say(`\n5. Another account (${STRANGER}) asks to connect to the endpoint service`);
    const stranger = await connections.createConsumerEndpoint({ serviceId: aws.serviceId, owner: STRANGER });
    say(`   endpoint ${stranger}: ${connections.state(stranger)}`);

    say(`\n6. rds-nlb-sync fivetran link, against a fake Fivetran API on ${fivetran.url}`);
    const started = Date.now();
    const result = await linkEndpointService(
      { serviceId: aws.serviceId, serviceName: aws.serviceName, region: 'eu-west-1', waitMs: 20_000, pollMs: 1000 },
      {
        fivetran: createFivetranClient({ apiKey: fivetran.apiKey, apiSecret: fivetran.apiSecret, baseUrl: fivetran.url }),
        progress: (line) => say(`   ${line.trim()}`),
        connectionState: async () =>
          `our side: ${connections.connections().filter((c) => c.owner === FIVETRAN_ACCOUNT_ID).map((c) => `${c.endpointId} ${c.state}`).join(', ') || 'no endpoint yet'}`,
      },
    );
    await Promise.all(deliveries);
    say(`   Fivetran: ${result.link.state} after ${seconds(Date.now() - started)}${result.why ? ` (${result.why})` : ''}`);
    say('\n7. Endpoint connections now:');
    for (const c of connections.connections()) say(`   ${c.endpointId} from ${c.owner}: ${c.state}`);
  } finally {
    await fivetran.close();
  }
}

interface TimelineInput {
  eventAt: number;
  dnsAt: number;
  newIp: string;
  oldIp: string;
  scale: number;
  unscaled: Emulators['elb']['unscaled'];
}

/** The failover from the ELB front's history: our terms measured, ELB's modelled (scaled, and unscaled beside). */
function timeline(history: ReturnType<Emulators['elb']['history']>, t: TimelineInput): void {
  const fresh = history.filter((h) => h.ip === t.newIp).at(-1);
  const old = history.filter((h) => h.ip === t.oldIp).at(-1);
  if (!fresh?.firstHealthyAt || !t.dnsAt) {
    say(`   timeline incomplete: ${t.newIp} ${fresh ? 'registered, not yet healthy' : 'not registered'}`);
    return;
  }
  const ours = fresh.registeredAt - t.dnsAt;
  const modelled = fresh.firstHealthyAt - fresh.registeredAt;
  const unscaledMs = toHealthyMs(t.unscaled);
  const x = `modelled x${t.scale}`;
  const rows: [number, string, string][] = [
    [t.eventAt, 'RDS event reaches the sync run', 'measured'],
    [t.dnsAt, 'DNS answer changes', `emulated RDS, ${seconds(FLIP_AFTER_MS)} after the event`],
    [fresh.registeredAt, `RegisterTargets ${t.newIp} answered`, `measured: ${seconds(ours)} after DNS`],
    [fresh.healthChecksFrom, 'ELB registration done', `${x}: ${seconds(fresh.healthChecksFrom - fresh.registeredAt)} (AWS: ${seconds(t.unscaled.registrationMs)})`],
    [fresh.firstHealthyAt, `${t.newIp} healthy`, `${x}: ${t.unscaled.healthyThreshold} checks, ${seconds(fresh.firstHealthyAt - fresh.healthChecksFrom)} (AWS: ${seconds(t.unscaled.intervalMs * t.unscaled.healthyThreshold)})`],
  ];
  if (old?.deregisteredAt) rows.push([old.deregisteredAt, `DeregisterTargets ${t.oldIp} answered`, 'measured']);
  if (old?.goneAt) rows.push([old.goneAt, `${t.oldIp} drained, gone`, `${x} (AWS: ${seconds(t.unscaled.deregistrationMs)})`]);
  say('   Failover timeline:');
  for (const [when, what, how] of rows.sort((a, b) => a[0] - b[0])) say(`   ${`+${((when - t.eventAt) / 1000).toFixed(2)} s`.padStart(9)}  ${what.padEnd(36)} ${how}`);
  say(`   DNS change -> healthy: ${seconds(ours)} ours (measured) + ${seconds(unscaledMs)} ELB's (modelled) = ${seconds(ours + unscaledMs)} with AWS's terms (${seconds(ours + modelled)} here, at x${t.scale})`);
}

function report(summary: SyncSummary): void {
  for (const m of summary.mappings) {
    const change = m.added.length + m.removed.length ? `added ${m.added.join(', ') || '-'}; removed ${m.removed.join(', ') || '-'}` : 'no RegisterTargets / DeregisterTargets call';
    say(`   sync ${summary.outcome} in ${summary.durationMs} ms: resolved ${m.resolved?.join(', ') ?? 'nothing'}; ${m.reason}; ${change}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
