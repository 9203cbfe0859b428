// Everything the integration tests, `npm run local` and the benchmark need to run the real
// service locally: moto for AWS, a loopback DNS server for the RDS endpoint, seeded resources.
import { startDnsServer, type DnsServer, type DnsServerOptions } from './dns-server.js';
import { startElbFront, type ElbFront, type ElbFrontOptions } from './elb-front.js';
import { startEndpointConnections, type EndpointConnections, type EndpointConnectionsOptions } from './endpoint-connections.js';
import { startMoto, type Moto, type StartMotoOptions } from './moto.js';
import { EMULATOR_REGION, seedAws, type SeedOptions, type SeededAws } from './seed.js';

export * from './deployed-env.js';
export * from './dns-server.js';
export * from './elb-front.js';
export * from './elb-timing.js';
export * from './endpoint-connections.js';
export * from './moto.js';
export * from './rds-dns.js';
export * from './seed.js';
export * from './silent-server.js';

export interface EmulatorOptions {
  readonly moto?: StartMotoOptions;
  readonly dns?: DnsServerOptions;
  readonly seed?: SeedOptions;
  readonly connections?: EndpointConnectionsOptions;
  /** ELB target timing: scale (default TEST_ELB_SCALE), unscaled terms, which addresses serve. */
  readonly elb?: ElbFrontOptions;
}

export interface Emulators {
  readonly moto: Moto;
  readonly dns: DnsServer;
  readonly aws: SeededAws;
  /** EC2 front serving VPC endpoint connections (moto has none); proxies the rest of EC2 to moto. */
  readonly connections: EndpointConnections;
  /**
   * ELBv2 front with AWS's target timing (moto makes targets healthy at once); proxies the rest
   * of ELBv2 to moto. Read targets through it: readTargets(emulators.elb.endpoint, arn).
   */
  readonly elb: ElbFront;
  /** Stops moto, the DNS server and the fronts. Idempotent. */
  stop(): Promise<void>;
}

/** Starts moto and the DNS server and seeds moto. On failure, stops whatever had started. */
export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const stoppers: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= Promise.all(stoppers.map((stopOne) => stopOne())).then(() => undefined));
  try {
    const moto = await startMoto(options.moto);
    stoppers.push(moto.stop);
    const dns = await startDnsServer(options.dns);
    stoppers.push(dns.close);
    const connections = await startEndpointConnections(moto.endpoint, options.connections);
    stoppers.push(connections.close);
    const elb = await startElbFront(moto.endpoint, options.elb);
    stoppers.push(elb.close);
    const aws = await seedAws(moto.endpoint, options.seed);
    // moto.reset() forgets the target groups: the front forgets their targets with them.
    const reset = async () => {
      await moto.reset();
      elb.reset();
    };
    return { moto: { ...moto, reset }, dns, aws, connections, elb, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Environment that points the real Lambda code (SDK clients, lib/dns) at the emulators. */
export function emulatorEnv(emulators: Pick<Emulators, 'moto' | 'dns'> & Partial<Pick<Emulators, 'connections' | 'elb'>>): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: emulators.moto.endpoint,
    // EC2 goes through the front that adds endpoint connections (the SDK's service-specific endpoint setting).
    ...(emulators.connections ? { AWS_ENDPOINT_URL_EC2: emulators.connections.endpoint } : {}),
    // ELBv2 goes through the front with AWS's target timing (serviceId "Elastic Load Balancing v2").
    ...(emulators.elb ? { AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: emulators.elb.endpoint } : {}),
    AWS_REGION: EMULATOR_REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    DNS_SERVERS: emulators.dns.address,
  };
}
export * from './fivetran-api.js';
