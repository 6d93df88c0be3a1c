import { appendFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, ProvisionedThroughputExceededException, type KinesisClient } from '@aws-sdk/client-kinesis';
import { deaggregate } from '@kinesis-kit/aggregation';
import { activeResources, leakedResources } from '@kinesis-kit/core';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentCommand } from '../src/commands/agent.js';
import { createAwsClients } from '../src/aws-clients.js';
import { captureIo } from './io.js';

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    // Each check reads the stream: stay under the mock's 5 reads/s per shard.
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('kinesis-kit agent', () => {
  let server: MockServer;
  let dir: string;

  beforeAll(async () => {
    server = await startMockServer({ streams: [{ name: 'logs', shardCount: 1 }] });
    process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
    dir = await mkdtemp(join(tmpdir(), 'kk-agent-it-'));
  });

  afterAll(async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    await server.close();
  });

  /**
   * Every user record in the stream so far: one pass from TRIM_HORIZON, no timers. The mock keeps
   * AWS's read limits (5 calls/s per shard), so a throttled pass waits and starts again.
   */
  async function streamLines(): Promise<string[]> {
    const clients = createAwsClients({ ...server.clientConfig(), http1: true });
    try {
      for (;;) {
        try {
          return await readAll(clients.kinesis);
        } catch (err) {
          if (!(err instanceof ProvisionedThroughputExceededException)) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } finally {
      clients.destroy();
    }
  }

  async function readAll(kinesis: KinesisClient): Promise<string[]> {
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: 'logs', ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
    const lines: string[] = [];
    let iterator = ShardIterator;
    while (iterator !== undefined) {
      const out = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of out.Records ?? []) lines.push(...deaggregate(record).map((r) => Buffer.from(r.data).toString('utf8')));
      if ((out.Records ?? []).length === 0 || out.MillisBehindLatest === 0) break;
      iterator = out.NextShardIterator;
    }
    return lines;
  }

  it('ships appended lines, follows a rotation, and resumes from its position file after a restart', async () => {
    const before = activeResources();
    const log = join(dir, 'app.log');
    await writeFile(log, 'before start\n');
    const args = ['--stream', 'logs', '--file', log, '--from', 'start', '--poll-ms', '10', '--endpoint', server.endpoint, '--region', 'us-east-1'];

    const first = captureIo();
    const running = agentCommand(args, first);
    await appendFile(log, 'one\ntwo\n');
    await until(async () => (await streamLines()).length === 3);
    await rename(log, `${log}.1`);
    await writeFile(log, 'after rotation\n');
    await until(async () => (await streamLines()).includes('after rotation'));
    first.abort();
    expect(await running).toBe(0);
    expect(first.stderr()).toMatch(/4 lines shipped/);
    const position = JSON.parse(await readFile(`${log}.kinesis-kit-position`, 'utf8')) as { offset: number };
    expect(position.offset).toBe('after rotation\n'.length);

    // A restart ships only what is new.
    await appendFile(log, 'after restart\n');
    const second = captureIo();
    const rerun = agentCommand(args, second);
    await until(async () => (await streamLines()).includes('after restart'));
    second.abort();
    expect(await rerun).toBe(0);
    expect(await streamLines()).toEqual(['before start', 'one', 'two', 'after rotation', 'after restart']);
    expect(await leakedResources(before)).toEqual({});
  });
});
