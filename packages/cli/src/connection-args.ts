import type { ParseArgsConfig } from 'node:util';
import { KINESIS_NAME_PATTERN } from '@kinesis-kit/core';
import type { ConnectionOptions } from './aws-clients.js';
import { UsageError } from './cli-error.js';

/** The flags every command that talks to AWS takes. */
export const CONNECTION_FLAGS = {
  endpoint: { type: 'string' },
  'dynamodb-endpoint': { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  http1: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

export const CONNECTION_USAGE = `  --endpoint <url>           Kinesis and DynamoDB endpoint (LocalStack, the mock); default: AWS
  --dynamodb-endpoint <url>  DynamoDB (lease tables) elsewhere than --endpoint
  --region <name>            AWS region (default: AWS_REGION or the profile's)
  --profile <name>           credentials profile (default: AWS_PROFILE or the SDK's chain)
  --http1                    HTTP/1.1 for every Kinesis call, fan-out included (emulators only)`;

function checkUrl(flag: string, value: string | undefined): void {
  if (value === undefined) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag}: not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${flag}: must be http(s), got ${url.protocol}`);
}

export function connectionOptions(values: {
  endpoint?: string;
  'dynamodb-endpoint'?: string;
  region?: string;
  profile?: string;
  http1?: boolean;
}): ConnectionOptions {
  checkUrl('--endpoint', values.endpoint);
  checkUrl('--dynamodb-endpoint', values['dynamodb-endpoint']);
  return {
    ...(values.endpoint !== undefined ? { endpoint: values.endpoint } : {}),
    ...(values['dynamodb-endpoint'] !== undefined ? { dynamoDbEndpoint: values['dynamodb-endpoint'] } : {}),
    ...(values.region !== undefined ? { region: values.region } : {}),
    ...(values.profile !== undefined ? { profile: values.profile } : {}),
    http1: values.http1 ?? false,
  };
}

/** Kinesis's own rule for stream names, checked before any call so a typo gets a clear message. */
export function requireStreamName(value: string | undefined, flag = '--stream'): string {
  if (value === undefined) throw new UsageError(`${flag} is required`);
  if (!KINESIS_NAME_PATTERN.test(value)) throw new UsageError(`${flag}: "${value}" is not a valid stream name (1-128 of a-z A-Z 0-9 _ . -)`);
  return value;
}

export function positiveNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag}: must be a positive number, got "${value}"`);
  return n;
}
