import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  PutRecordCommand,
  PutRecordsCommand,
  RegisterStreamConsumerCommand,
  SplitShardCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '@kinesis-kit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer, type MockServerOptions } from '../src/index.js';
import { errorOf, kinesisClient } from './helpers.js';

const SHARD = 'shardId-000000000000';
const MiB = 1024 * 1024;

let server: MockServer | undefined;
let client: KinesisClient | undefined;
let clock: ManualClock;

async function start(options: MockServerOptions = {}): Promise<KinesisClient> {
  clock = new ManualClock();
  server = await startMockServer({ clock, streams: [{ name: 's', shardCount: 1 }], ...options });
  client = kinesisClient(server, true);
  return client;
}

afterEach(async () => {
  client?.destroy();
  await server?.close();
  client = undefined;
  server = undefined;
});

const records = (n: number, size = 1, key = 'k') => Array.from({ length: n }, () => ({ PartitionKey: key, Data: new Uint8Array(size) }));

async function iterator(c: KinesisClient): Promise<string> {
  return (await c.send(new GetShardIteratorCommand({ StreamName: 's', ShardId: SHARD, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator!;
}

describe('limits (on by default, measured on the injected clock)', () => {
  it('throttles writes above 1000 records/s per shard, entry by entry', async () => {
    const c = await start();
    expect((await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(500) }))).FailedRecordCount).toBe(0);
    expect((await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(500) }))).FailedRecordCount).toBe(0);
    const third = await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(10) }));
    expect(third.FailedRecordCount).toBe(10);
    expect(third.Records![0]).toMatchObject({ ErrorCode: 'ProvisionedThroughputExceededException' });
    expect(third.Records![0]!.ErrorMessage).toContain(`Rate exceeded for shard ${SHARD} in stream s under account 000000000000`);
    const single = await errorOf(c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'k', Data: new Uint8Array(1) })));
    expect(single.name).toBe('ProvisionedThroughputExceededException');
    expect(single.$metadata?.httpStatusCode).toBe(400);
    await clock.advance(100);
    const refill = await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(150) }));
    expect(refill.FailedRecordCount).toBe(50); // 100 ms refills 100 records
  });

  it('throttles writes above 1 MiB/s per shard', async () => {
    const c = await start();
    const res = await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(5, 300_000) }));
    expect(res.Records!.map((r) => r.ErrorCode ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'ProvisionedThroughputExceededException', 'ProvisionedThroughputExceededException']);
    await clock.advance(1000);
    expect((await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(3, 300_000) }))).FailedRecordCount).toBe(0);
  });

  it('limits GetRecords to 5 calls/s and 2 MiB/s per shard', async () => {
    const c = await start();
    let it = await iterator(c);
    for (let i = 0; i < 5; i++) it = (await c.send(new GetRecordsCommand({ ShardIterator: it }))).NextShardIterator!;
    const sixth = await errorOf(c.send(new GetRecordsCommand({ ShardIterator: it })));
    expect(sixth.name).toBe('ProvisionedThroughputExceededException');
    await clock.advance(200);
    await c.send(new GetRecordsCommand({ ShardIterator: it }));

    // 3 MiB in one read is allowed (up to 10 MiB per call) and then blocks reads until the debt is repaid.
    for (let i = 0; i < 3; i++) {
      await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(1, MiB - 1) }));
      await clock.advance(1000);
    }
    const big = await c.send(new GetRecordsCommand({ ShardIterator: await iterator(c) }));
    expect(big.Records).toHaveLength(3);
    await clock.advance(200);
    expect((await errorOf(c.send(new GetRecordsCommand({ ShardIterator: big.NextShardIterator! })))).name).toBe('ProvisionedThroughputExceededException');
    await clock.advance(400);
    await c.send(new GetRecordsCommand({ ShardIterator: big.NextShardIterator! }));
  });

  it('limits GetShardIterator to 5 calls/s per shard', async () => {
    const c = await start();
    for (let i = 0; i < 5; i++) await iterator(c);
    expect((await errorOf(iterator(c))).name).toBe('ProvisionedThroughputExceededException');
    await clock.advance(200);
    await iterator(c);
  });

  it('returns at most 10,000 records per GetRecords call', async () => {
    const c = await start({ limits: { shardWriteRecordsPerSecond: Infinity } });
    for (let i = 0; i < 24; i++) await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(500) }));
    const res = await c.send(new GetRecordsCommand({ ShardIterator: await iterator(c) }));
    expect(res.Records).toHaveLength(10_000);
    expect(res.MillisBehindLatest).toBeGreaterThanOrEqual(0);
    const rest = await c.send(new GetRecordsCommand({ ShardIterator: res.NextShardIterator }));
    expect(rest.Records).toHaveLength(2_000);
    // The API reference's prose says InvalidArgumentException, but its model caps Limit at 10000 and the
    // service answered this ValidationException (kinesalite's test suite, run against AWS, records it).
    const over = await errorOf(c.send(new GetRecordsCommand({ ShardIterator: rest.NextShardIterator, Limit: 10_001 })));
    expect([over.name, over.message]).toEqual([
      'ValidationException',
      "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000",
    ]);
  });

  it('rejects oversized records and requests', async () => {
    const c = await start();
    const tooBig = await errorOf(c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'k', Data: new Uint8Array(MiB) })));
    expect(tooBig.name).toBe('ValidationException'); // partition key + data > 1 MiB
    await c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'k', Data: new Uint8Array(MiB - 1) }));
    const tooMany = await errorOf(c.send(new PutRecordsCommand({ StreamName: 's', Records: records(501) })));
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.message).toContain('Member must have length less than or equal to 500');
    const tooMuch = await errorOf(c.send(new PutRecordsCommand({ StreamName: 's', Records: records(6, MiB - 10) })));
    expect(tooMuch.name).toBe('InvalidArgumentException');
  });

  it('limits consumers per stream and shards per account', async () => {
    const c = await start({ limits: { shardLimit: 4 } });
    const StreamARN = server!.engine.streamArn('s');
    for (let i = 0; i < 20; i++) await c.send(new RegisterStreamConsumerCommand({ StreamARN, ConsumerName: `c${i}` }));
    expect((await errorOf(c.send(new RegisterStreamConsumerCommand({ StreamARN, ConsumerName: 'c20' })))).name).toBe('LimitExceededException');
    await c.send(new CreateStreamCommand({ StreamName: 'three', ShardCount: 3 }));
    const over = await errorOf(c.send(new CreateStreamCommand({ StreamName: 'one-more', ShardCount: 1 })));
    expect(over.name).toBe('LimitExceededException');
    expect(over.message).toContain('shard limit');
    expect((await errorOf(c.send(new SplitShardCommand({ StreamName: 's', ShardToSplit: SHARD, NewStartingHashKey: '100' })))).name).toBe('LimitExceededException');
  });

  it('allows at most 5 consumers CREATING at once per stream (consumersCreatingPerStream)', async () => {
    const c = await start({ consumerActivationDelayMs: 1_000 });
    const StreamARN = server!.engine.streamArn('s');
    const register = (ConsumerName: string) => c.send(new RegisterStreamConsumerCommand({ StreamARN, ConsumerName }));
    for (let i = 0; i < 5; i++) expect((await register(`c${i}`)).Consumer!.ConsumerStatus).toBe('CREATING');
    const sixth = await errorOf(register('c5'));
    expect(sixth.name).toBe('LimitExceededException');
    expect(sixth.message).toContain('CREATING');
    await clock.advance(1_000);
    expect((await register('c5')).Consumer!.ConsumerStatus).toBe('CREATING');
    server!.setLimits({ consumersCreatingPerStream: 1 });
    expect((await errorOf(register('c6'))).name).toBe('LimitExceededException');
  });

  it('keeps the per-call caps with limits: false: 10 MiB per GetRecords, 1 MiB records, 5 MiB per PutRecords', async () => {
    const c = await start({ limits: false });
    const size = 700 * 1024;
    for (let i = 0; i < 4; i++) await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(6, size) }));
    const first = await c.send(new GetRecordsCommand({ ShardIterator: await iterator(c) }));
    const firstBytes = first.Records!.reduce((n, r) => n + r.Data!.length + r.PartitionKey!.length, 0);
    expect(firstBytes).toBeLessThanOrEqual(10 * MiB);
    expect(first.Records!.length).toBeLessThan(24);
    const rest = await c.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator }));
    expect(first.Records!.length + rest.Records!.length).toBe(24);
    expect((await errorOf(c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'k', Data: new Uint8Array(MiB) })))).name).toBe('ValidationException');
    expect((await errorOf(c.send(new PutRecordsCommand({ StreamName: 's', Records: records(6, MiB - 10) })))).name).toBe('InvalidArgumentException');
  });

  it('turns the rate limits off with limits: false, and back on with setLimits', async () => {
    const c = await start({ limits: false });
    for (let i = 0; i < 6; i++) expect((await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(500) }))).FailedRecordCount).toBe(0);
    const it = await iterator(c);
    for (let i = 0; i < 10; i++) await c.send(new GetRecordsCommand({ ShardIterator: it, Limit: 1 }));
    server!.setLimits({});
    expect(server!.limits.shardWriteRecordsPerSecond).toBe(1000);
    await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(500) }));
    await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(500) }));
    expect((await c.send(new PutRecordsCommand({ StreamName: 's', Records: records(1) }))).FailedRecordCount).toBe(1);
  });
});
