// Everything the integration tests, `npm run local` and the benchmark need to run the real
// service locally: moto for AWS, a loopback DNS server for the RDS endpoint, seeded resources.
import { startDnsServer, type DnsServer, type DnsServerOptions } from './dns-server.js';
import { startEndpointConnections, type EndpointConnections, type EndpointConnectionsOptions } from './endpoint-connections.js';
import { startMoto, type Moto, type StartMotoOptions } from './moto.js';
import { EMULATOR_REGION, seedAws, type SeedOptions, type SeededAws } from './seed.js';

export * from './deployed-env.js';
export * from './dns-server.js';
export * from './endpoint-connections.js';
export * from './moto.js';
export * from './seed.js';
export * from './silent-server.js';

export interface EmulatorOptions {
  readonly moto?: StartMotoOptions;
  readonly dns?: DnsServerOptions;
  readonly seed?: SeedOptions;
  readonly connections?: EndpointConnectionsOptions;
}

export interface Emulators {
  readonly moto: Moto;
  readonly dns: DnsServer;
  readonly aws: SeededAws;
  /** EC2 front serving VPC endpoint connections (moto has none); proxies the rest of EC2 to moto. */
  readonly connections: EndpointConnections;
  /** Stops moto and the DNS server. Idempotent. */
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
    const aws = await seedAws(moto.endpoint, options.seed);
    return { moto, dns, aws, connections, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Environment that points the real Lambda code (SDK clients, lib/dns) at the emulators. */
export function emulatorEnv(emulators: Pick<Emulators, 'moto' | 'dns'> & Partial<Pick<Emulators, 'connections'>>): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: emulators.moto.endpoint,
    // EC2 goes through the front that adds endpoint connections (the SDK's service-specific endpoint setting).
    ...(emulators.connections ? { AWS_ENDPOINT_URL_EC2: emulators.connections.endpoint } : {}),
    AWS_REGION: EMULATOR_REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    DNS_SERVERS: emulators.dns.address,
  };
}
export * from './fivetran-api.js';
