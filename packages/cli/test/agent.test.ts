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
    server = await startMockServer({ streams: ['logs', 'bad-lines'].map((name) => ({ name, shardCount: 1 })) });
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
  async function streamLines(stream = 'logs'): Promise<string[]> {
    const clients = createAwsClients({ ...server.clientConfig(), http1: true });
    try {
      for (;;) {
        try {
          return await readAll(clients.kinesis, stream);
        } catch (err) {
          if (!(err instanceof ProvisionedThroughputExceededException)) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } finally {
      clients.destroy();
    }
  }

  async function readAll(kinesis: KinesisClient, stream: string): Promise<string[]> {
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
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

  it('skips (and reports) a line that can never be a record instead of retrying it forever; the position moves past it', async () => {
    const log = join(dir, 'bad.log');
    const tooBigForARecord = 'y'.repeat(1024 * 1024 - 10); // fits a read chunk, but not a record with its key
    const longerThanAChunk = 'z'.repeat(1024 * 1024 + 5);
    await writeFile(
      log,
      [
        '{"key":"k","data":"first"}',
        '{"key":"k","data":"bad hash key","explicitHashKey":"-5"}',
        '{"key":"","data":"empty key"}',
        `{"key":"k","data":"${tooBigForARecord}"}`,
        longerThanAChunk,
        '{"key":"k","data":"last"}',
        '',
      ].join('\n'),
    );
    const args = ['--stream', 'bad-lines', '--file', log, '--from', 'start', '--json', '--poll-ms', '10', '--endpoint', server.endpoint, '--region', 'us-east-1'];
    const io = captureIo();
    const running = agentCommand(args, io);
    await until(async () => (await streamLines('bad-lines')).includes('last'));
    io.abort();
    expect(await running).toBe(0);
    expect(await streamLines('bad-lines')).toEqual(['first', 'last']);
    expect(io.stderr()).toMatch(/2 lines shipped, 4 skipped, 0 batch retries/);
    expect(io.stderr()).toMatch(/skipped a line \("\{\\"key\\":\\"k\\",\\"data\\":\\"bad hash key.*explicit ?hash ?key/i);
    expect(io.stderr()).toMatch(/skipped a line of 1048581 bytes at byte \d+: longer than 1 MiB/);
    const position = JSON.parse(await readFile(`${log}.kinesis-kit-position`, 'utf8')) as { offset: number };
    expect(position.offset).toBe((await readFile(log)).length);
  });

  it('stops at once on Ctrl-C while Kinesis is unreachable, without moving the position past unacknowledged lines', async () => {
    const own = await startMockServer({ streams: [{ name: 'gone', shardCount: 1 }] });
    const log = join(dir, 'unreachable.log');
    await writeFile(log, 'acknowledged\n');
    const args = ['--stream', 'gone', '--file', log, '--from', 'start', '--poll-ms', '10', '--endpoint', own.endpoint, '--region', 'us-east-1'];
    const io = captureIo();
    const running = agentCommand(args, io);
    const positionFile = `${log}.kinesis-kit-position`;
    const offset = async (): Promise<number | undefined> =>
      ((JSON.parse(await readFile(positionFile, 'utf8').catch(() => '{}')) as { offset?: number }).offset);
    await until(async () => (await offset()) === 'acknowledged\n'.length);
    await own.close(); // Kinesis goes away: the next line is retried until recordTtl (30 s)
    await appendFile(log, 'never acknowledged\n');
    await new Promise((r) => setTimeout(r, 300));
    const stopping = Date.now();
    io.abort();
    expect(await running).toBe(0);
    // A bound on a hang, not a speed check: without the abort it would wait out recordTtl (30 s).
    expect(Date.now() - stopping).toBeLessThan(10_000);
    expect(await offset()).toBe('acknowledged\n'.length);
  });
});
