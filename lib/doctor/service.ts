// Doctor checks for the PrivateLink side: the VPC endpoint service in front of the NLB, who may
// connect to it, whether connections need accepting, and any connection left waiting.
import type { ServiceConfiguration } from '@aws-sdk/client-ec2';
import { FIVETRAN_ACCOUNT_ID } from '../config.js';
import type { ConnectionInfo } from './read.js';
import { fail, list, pass, warn, worstOf, type Verdict, type Check } from './verdict.js';

const rootArn = (account: string) => `arn:aws:iam::${account}:root`;
/** "Fivetran (arn:aws:iam::834469178297:root)" or the plain principal ARN. */
const principalLabel = (account: string) => (account === FIVETRAN_ACCOUNT_ID ? `Fivetran (${rootArn(account)})` : rootArn(account));
const ownerLabel = (account: string | undefined) => (account === FIVETRAN_ACCOUNT_ID ? 'Fivetran' : (account ?? 'an unknown owner'));

// ---------------------------------------------------------------------------------------------
// service.exists (one per NLB)

export const serviceExists: Check<string> = {
  id: 'service.exists',
  async run(loadBalancerArn, { reader, serviceIds, region }) {
    return decideServiceExists(loadBalancerArn, await reader.serviceConfigurations(), serviceIds, region);
  },
};

/** `serviceIds`: ENDPOINT_SERVICE_IDS when set; empty means any service of the account counts. */
export function decideServiceExists(loadBalancerArn: string, services: ServiceConfiguration[], serviceIds: string[], region: string): Verdict {
  const considered = serviceIds.length > 0 ? services.filter((s) => s.ServiceId && serviceIds.includes(s.ServiceId)) : services;
  const using = considered.filter((s) => s.NetworkLoadBalancerArns?.includes(loadBalancerArn));
  const unknown = serviceIds.filter((id) => !services.some((s) => s.ServiceId === id));
  const notFound = unknown.length > 0 ? `; ENDPOINT_SERVICE_IDS ${list(unknown)} not found in ${region}` : '';
  if (using.length === 0) {
    return fail(
      `no VPC endpoint service${serviceIds.length > 0 ? ' of ENDPOINT_SERVICE_IDS' : ''} uses this NLB${notFound}`,
      serviceIds.length > 0
        ? 'Set ENDPOINT_SERVICE_IDS (--service-id) to the service in front of this NLB, or leave it unset and doctor finds it.'
        : `Create one and allow Fivetran: aws ec2 create-vpc-endpoint-service-configuration --network-load-balancer-arns ${loadBalancerArn} --acceptance-required`,
    );
  }
  const verdicts = using.map((s): Verdict => {
    const state = s.ServiceState ?? 'unknown';
    if (state === 'Available') return pass(`${s.ServiceId} uses it: Fivetran connects to service name ${s.ServiceName}`);
    if (state === 'Pending') return warn(`${s.ServiceId} is still Pending`, 'Wait a minute and run doctor again.');
    return fail(`${s.ServiceId} is ${state}`, 'Recreate the endpoint service for this NLB and give Fivetran its new service name.');
  });
  const verdict = worstOf(verdicts);
  return { ...verdict, message: verdict.message + notFound };
}

// ---------------------------------------------------------------------------------------------
// service.principals, service.acceptance, service.connections (one set per endpoint service)

export const servicePrincipals: Check<ServiceConfiguration> = {
  id: 'service.principals',
  async run(service, { reader, allowedAccounts }) {
    return decidePrincipals(await reader.servicePrincipals(service.ServiceId ?? ''), allowedAccounts, service.ServiceId ?? '');
  },
};

/** Whether a principal entry of the service's permissions lets `account` create an endpoint. */
const admits = (principal: string, account: string) => principal === '*' || new RegExp(`^arn:aws[a-z-]*:iam::${account}:root$`).test(principal);

export function decidePrincipals(principals: string[], allowedAccounts: string[], serviceId: string): Verdict {
  const missing = allowedAccounts.filter((account) => !principals.some((p) => admits(p, account)));
  if (missing.length > 0) {
    return fail(
      `${list(missing.map(principalLabel))} may not connect: the endpoint service's permissions do not list ${missing.length > 1 ? 'them' : 'it'}, so Fivetran cannot create its endpoint`,
      `aws ec2 modify-vpc-endpoint-service-permissions --service-id ${serviceId} --add-allowed-principals ${list(missing.map(rootArn))}`,
    );
  }
  if (principals.includes('*')) {
    return warn(
      'every AWS account may request a connection (principal "*"); the accept function still accepts only ALLOWED_PRINCIPALS',
      `Allow only the accounts you expect: aws ec2 modify-vpc-endpoint-service-permissions --service-id ${serviceId} --remove-allowed-principals "*" --add-allowed-principals ${list(allowedAccounts.map(rootArn))}`,
    );
  }
  return pass(`${list(allowedAccounts.map(principalLabel))} may connect`);
}

export const serviceAcceptance: Check<ServiceConfiguration> = {
  id: 'service.acceptance',
  async run(service, { reader, allowedAccounts }) {
    return decideAcceptance(service, await reader.servicePrincipals(service.ServiceId ?? ''), allowedAccounts);
  },
};

export function decideAcceptance(service: ServiceConfiguration, principals: string[], allowedAccounts: string[]): Verdict {
  if (service.AcceptanceRequired) {
    return pass(`acceptance required: a connection waits in pendingAcceptance until the accept function accepts it (accounts ${list(allowedAccounts)})`);
  }
  if (principals.includes('*')) {
    return fail(
      'acceptance is not required and every AWS account is allowed ("*"): anyone can connect to the database\'s NLB',
      `aws ec2 modify-vpc-endpoint-service-configuration --service-id ${service.ServiceId} --acceptance-required`,
    );
  }
  return pass('acceptance not required: the allowed principals connect at once, the accept function has nothing to do');
}

export const serviceConnections: Check<ServiceConfiguration> = {
  id: 'service.connections',
  async run(service, { reader, allowedAccounts }) {
    return decideConnections(await reader.connections(service.ServiceId ?? ''), allowedAccounts, service.ServiceName ?? service.ServiceId ?? '');
  },
};

const PENDING = 'pendingacceptance';

export function decideConnections(connections: ConnectionInfo[], allowedAccounts: string[], serviceName: string): Verdict {
  const allowed = (c: ConnectionInfo) => c.owner !== undefined && allowedAccounts.includes(c.owner);
  const inState = (state: string, fromAllowed: boolean) =>
    connections.filter((c) => c.state.toLowerCase() === state && allowed(c) === fromAllowed).map((c) => `${c.endpointId} (${ownerLabel(c.owner)})`);
  const pendingAllowed = inState(PENDING, true);
  const pendingOthers = inState(PENDING, false);
  const available = inState('available', true);
  const rejected = inState('rejected', true);

  const verdicts: Verdict[] = [];
  if (pendingAllowed.length > 0) {
    verdicts.push(
      fail(
        `waiting in pendingAcceptance: ${list(pendingAllowed)}`,
        'Run `rds-nlb-sync accept` to accept it now, and check the accept function (function.accept): it accepts within a minute when it runs.',
      ),
    );
  }
  if (pendingOthers.length > 0) {
    verdicts.push(
      warn(
        `waiting in pendingAcceptance from accounts not in ALLOWED_PRINCIPALS: ${list(pendingOthers)}`,
        'Reject them (aws ec2 reject-vpc-endpoint-connections), or add the account to ALLOWED_PRINCIPALS if it is one you expect.',
      ),
    );
  }
  if (available.length > 0) verdicts.push(pass(`connected (available): ${list(available)}`));
  else if (rejected.length > 0 && pendingAllowed.length === 0) {
    verdicts.push(fail(`rejected: ${list(rejected)}`, 'Ask Fivetran to create the connection again; a rejected endpoint cannot be accepted.'));
  } else if (pendingAllowed.length === 0) {
    verdicts.push(warn('no endpoint connection from an allowed account yet', `Give Fivetran the service name ${serviceName} in the connector's PrivateLink setup.`));
  }
  return worstOf(verdicts);
}

export const SERVICE_CHECKS: Check<ServiceConfiguration>[] = [servicePrincipals, serviceAcceptance, serviceConnections];
