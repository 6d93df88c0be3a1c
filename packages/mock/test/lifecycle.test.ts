import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KinesisClient, ListStreamsCommand, PutRecordsCommand, RegisterStreamConsumerCommand, SubscribeToShardCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { activeResources, leakedResources } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { parseCliOptions, parseStreams } from '../src/mock-cli.js';
import { startMockServer } from '../src/index.js';
import { kinesisClient } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => readFileSync(path.join(here, 'fixtures', name));

describe('server lifecycle', () => {
  it('close() releases sockets, sessions, subscriptions and timers (no leaked handles)', async () => {
    const before = activeResources();
    const server = await startMockServer({ streams: [{ name: 's', shardCount: 2 }], consumerActivationDelayMs: 10, updateStreamDelayMs: 60_000 });
    const h2 = kinesisClient(server, false);
    const h1 = kinesisClient(server, true);
    const ddb = new DynamoDBClient({ ...server.clientConfig(), maxAttempts: 1 });
    await h1.send(new PutRecordsCommand({ StreamName: 's', Records: [{ PartitionKey: 'a', Data: new Uint8Array(4) }] }));
    await h2.send(new ListStreamsCommand({}));
    await ddb.send(new ListTablesCommand({}));
    const consumer = (await h1.send(new RegisterStreamConsumerCommand({ StreamARN: server.engine.streamArn('s'), ConsumerName: 'c' }))).Consumer!;
    await new Promise((r) => setTimeout(r, 20));
    const sub = await h2.send(
      new SubscribeToShardCommand({ ConsumerARN: consumer.ConsumerARN, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'TRIM_HORIZON' } }),
    );
    const drained = (async () => {
      for await (const _ of sub.EventStream!) void _;
    })();
    server.engine.updateShardCount({ streamName: 's' }, 3); // leaves a pending transition timer
    expect(server.activeSubscriptions).toBe(1);
    await server.close();
    await server.close(); // idempotent
    await drained.catch(() => {});
    h1.destroy();
    h2.destroy();
    ddb.destroy();
    expect(await leakedResources(before)).toEqual({});
  });

  it('binds 127.0.0.1 and a free port by default; a busy port is an error', async () => {
    const server = await startMockServer();
    try {
      expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(server.port).toBeGreaterThan(0);
      await expect(startMockServer({ port: server.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await server.close();
    }
  });

  it('tolerates a connection per request and many connections in parallel', async () => {
    const server = await startMockServer({ limits: false, streams: [{ name: 's', shardCount: 4 }] });
    const client = kinesisClient(server, false);
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          client.send(new PutRecordsCommand({ StreamName: 's', Records: Array.from({ length: 100 }, (_, j) => ({ PartitionKey: `${i}-${j}`, Data: new Uint8Array(200) })) })),
        ),
      );
      expect(results.every((r) => r.FailedRecordCount === 0)).toBe(true);
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('serves TLS with ALPN h2 and http/1.1 on one port', async () => {
    const cert = fixture('tls-cert.pem');
    const server = await startMockServer({ tls: { key: fixture('tls-key.pem'), cert }, streams: [{ name: 'tls', shardCount: 1 }] });
    expect(server.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const h2 = kinesisClient(server, false, { requestHandler: new NodeHttp2Handler({ nodeHttp2ConnectOptions: { ca: cert } }) });
    const h1 = kinesisClient(server, true, { requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: cert }) }) });
    try {
      expect((await h2.send(new ListStreamsCommand({}))).StreamNames).toEqual(['tls']);
      expect((await h1.send(new ListStreamsCommand({}))).StreamNames).toEqual(['tls']);
    } finally {
      h1.destroy();
      h2.destroy();
      await server.close();
    }
  });

  it('rejects bad options with a typed error naming the field', async () => {
    await expect(startMockServer({ port: 70_000 })).rejects.toMatchObject({ name: 'MockConfigError', field: 'port' });
    await expect(startMockServer({ limits: { shardWriteRecordsPerSecond: -1 } })).rejects.toMatchObject({ field: 'limits.shardWriteRecordsPerSecond' });
    await expect(startMockServer({ streams: [{ name: 'x', shardCount: 0 }] })).rejects.toMatchObject({ field: 'streams[0].shardCount' });
  });
});

describe('CLI', () => {
  it('parses its options', () => {
    expect(parseStreams('a:2, b:on-demand,c')).toEqual([{ name: 'a', shardCount: 2 }, { name: 'b', mode: 'ON_DEMAND' }, { name: 'c', shardCount: 1 }]);
    expect(parseCliOptions(['--port', '0', '--no-limits', '--streams', 'x:3'])).toMatchObject({ port: 0, host: '127.0.0.1', limits: false, streams: [{ name: 'x', shardCount: 3 }] });
    expect(() => parseCliOptions(['--port', 'abc'])).toThrow(/--port/);
    expect(() => parseStreams('bad name!:1')).toThrow(/--streams: bad stream name "bad name!"/);
    expect(parseCliOptions(['--help'])).toBe('help');
  });

  it('prints the endpoint, serves, and exits cleanly on SIGTERM', async () => {
    const cli = path.join(here, '..', 'src', 'cli.ts');
    const child = spawn(process.execPath, ['--conditions=@kinesis-kit/source', '--import', 'tsx', cli, '--port', '0', '--streams', 'cli:2'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: path.join(here, '..', '..', '..'),
    });
    try {
      const endpoint = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /listening on (\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`cli exited early with ${code}`)));
      });
      const port = Number(new URL(endpoint).port);
      await new Promise<void>((resolve, reject) => net.connect(port, '127.0.0.1', resolve).on('error', reject).unref());
      const client = new KinesisClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler(),
      });
      expect((await client.send(new ListStreamsCommand({}))).StreamNames).toEqual(['cli']);
      client.destroy();
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
