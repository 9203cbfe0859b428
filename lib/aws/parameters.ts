// SSM Parameter Store adapter: one parameter's value, decrypted (a SecureString works too).
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';

export class ParameterEmptyError extends Error {
  override name = 'ParameterEmptyError';
}

/** GetParameter WithDecryption; `name` is a parameter name or its ARN. */
export async function readParameter(ssm: SSMClient, name: string): Promise<string> {
  const out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const value = out.Parameter?.Value;
  if (value === undefined || value.trim() === '') throw new ParameterEmptyError(`SSM parameter ${name} has no value`);
  return value;
}
