import http from 'node:http';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { deaggregateWithReport, hashKeyInRange, partitionKeyToHashKey, toHashKeyRange } from '@kinesis-kit/aggregation';
import { KinesisProducer } from '@kinesis-kit/producer';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKinesisLocal, type KinesisLocal } from './kinesis-local.js';

// The producer against kinesis-local (LocalStack's Kinesis engine): aggregated containers land on
// the shard of their hash key, are read back whole by an independent server, and survive a split.
describe('compat: the producer on kinesis-local', () => {
  let backend: KinesisLocal;
  let kinesis: KinesisClient;

  beforeAll(async () => {
    backend = await startKinesisLocal([{ name: 'compat-producer', shardCount: 2 }]);
    kinesis = new KinesisClient({
      endpoint: backend.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'compat', secretAccessKey: 'compat' },
      maxAttempts: 1,
      // kinesis-mock breaks with the SDK's default HTTP/2 handler.
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true }) }),
    });
  });

  afterAll(async () => {
    kinesis?.destroy();
    await backend?.close();
  });

  async function readAll(): Promise<{ data: string[]; discarded: number }> {
    const data: string[] = [];
    let discarded = 0;
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: 'compat-producer' }))).Shards ?? [];
    for (const shard of shards) {
      const range = { startingHashKey: shard.HashKeyRange!.StartingHashKey!, endingHashKey: shard.HashKeyRange!.EndingHashKey! };
      let iterator = (await kinesis.send(new GetShardIteratorCommand({ StreamName: 'compat-producer', ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      while (iterator) {
        const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        for (const record of page.Records ?? []) {
          const report = deaggregateWithReport(record, { hashKeyRange: range });
          discarded += report.discardedOutOfRange;
          for (const r of report.records) {
            expect(hashKeyInRange(r.explicitHashKey !== undefined ? BigInt(r.explicitHashKey) : partitionKeyToHashKey(r.partitionKey), toHashKeyRange(range))).toBe(true);
            data.push(Buffer.from(r.data).toString('utf8'));
          }
        }
        if ((page.Records ?? []).length === 0) break;
        iterator = page.NextShardIterator;
      }
    }
    return { data, discarded };
  }

  it('every record acknowledged, read back equal and in its shard range, across a split', async () => {
    const producer = new KinesisProducer({ streamName: 'compat-producer', kinesisClient: kinesis, recordMaxBufferedTime: 20 });
    await producer.ready(); // the shard map: before it, records go out unaggregated
    const put = (from: number, count: number) =>
      Promise.all(Array.from({ length: count }, (_, i) => producer.put({ partitionKey: `key-${(from + i) % 97}`, data: `record-${from + i}` })));
    const first = await put(0, 1500);
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName: 'compat-producer' }))).Shards ?? [];
    await kinesis.send(new SplitShardCommand({ StreamName: 'compat-producer', ShardToSplit: shards[0]!.ShardId!, NewStartingHashKey: (2n ** 126n).toString() }));
    const second = await put(1500, 1500);
    await producer.close();

    expect([...first, ...second].every((r) => r.successful)).toBe(true);
    expect(first.some((r) => (r.subSequenceNumber ?? 0) > 0)).toBe(true); // aggregated
    const { data, discarded } = await readAll();
    const expected = Array.from({ length: 3000 }, (_, i) => `record-${i}`);
    // Containers a range-checking reader discards were re-sent whole by the producer: nothing is missing.
    expect(new Set(data)).toEqual(new Set(expected));
    expect(data.length - new Set(data).size).toBeLessThanOrEqual(discarded);
  });
});
