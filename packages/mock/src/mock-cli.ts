import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KINESIS_NAME_PATTERN } from '@kinesis-kit/core';
import { MockConfigError } from './errors.js';
import type { InitialStream, MockServerOptions } from './options.js';
import { startMockServer } from './server.js';

export const MOCK_CLI_USAGE = `Usage: kinesis-kit-mock [options]
  --port <n>                    port to listen on (default 4567; 0 = any free port)
  --host <addr>                 address to bind (default 127.0.0.1)
  --no-limits                   turn off rate limits and quotas (per-call size caps stay)
  --streams <list>              create streams at start: name:shards or name:on-demand, comma-separated
  --no-dynamodb                 do not serve DynamoDB (lease tables) on the same endpoint
  --tls-key <file> --tls-cert <file>   serve TLS (h2 and http/1.1 by ALPN)
  --subscription-duration-ms <n>       SubscribeToShard subscriptions end after this long (default 300000)
  --help`;

/** Parses `name:shards,name:on-demand`. */
export function parseStreams(spec: string): InitialStream[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [name, count = '1'] = item.split(':');
      if (!name) throw new MockConfigError('--streams', `bad entry "${item}"`);
      if (!KINESIS_NAME_PATTERN.test(name)) throw new MockConfigError('--streams', `bad stream name "${name}" (1 to 128 of a-z A-Z 0-9 _ . -)`);
      if (/^on[-_]?demand$/i.test(count)) return { name, mode: 'ON_DEMAND' as const };
      const shardCount = Number(count);
      if (!Number.isInteger(shardCount) || shardCount < 1) throw new MockConfigError('--streams', `bad shard count in "${item}"`);
      return { name, shardCount };
    });
}

export function parseCliOptions(argv: string[]): MockServerOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '4567' },
      host: { type: 'string', default: '127.0.0.1' },
      'no-limits': { type: 'boolean', default: false },
      streams: { type: 'string' },
      'no-dynamodb': { type: 'boolean', default: false },
      'tls-key': { type: 'string' },
      'tls-cert': { type: 'string' },
      'subscription-duration-ms': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new MockConfigError('--port', `must be 0..65535, got ${values.port}`);
  if ((values['tls-key'] === undefined) !== (values['tls-cert'] === undefined)) throw new MockConfigError('--tls-key', 'needs --tls-cert too');
  return {
    port,
    host: values.host,
    ...(values['no-limits'] ? { limits: false as const } : {}),
    ...(values.streams ? { streams: parseStreams(values.streams) } : {}),
    dynamodb: !values['no-dynamodb'],
    ...(values['tls-key'] && values['tls-cert']
      ? { tls: { key: readFileSync(values['tls-key']), cert: readFileSync(values['tls-cert']) } }
      : {}),
    ...(values['subscription-duration-ms'] ? { subscriptionDurationMs: Number(values['subscription-duration-ms']) } : {}),
  };
}

/**
 * Runs the mock server as a program until SIGINT/SIGTERM: the body of `kinesis-kit-mock` and of
 * `kinesis-kit mock`. Bad flags print the usage and set exit code 2.
 */
export async function runMockCli(argv: string[], usage = MOCK_CLI_USAGE): Promise<void> {
  let options: MockServerOptions | 'help';
  try {
    options = parseCliOptions(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${usage}\n`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const server = await startMockServer(options);
  process.stdout.write(
    `kinesis-kit-mock listening on ${server.endpoint}\n` +
      `  AWS_ENDPOINT_URL=${server.endpoint} AWS_REGION=${server.region} ` +
      `AWS_ACCESS_KEY_ID=${server.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${server.credentials.secretAccessKey}\n`,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`received ${signal}, shutting down\n`);
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

