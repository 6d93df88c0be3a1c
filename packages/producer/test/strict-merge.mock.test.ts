import { MergeShardsCommand } from '@aws-sdk/client-kinesis';
import { partitionKeyToHashKey } from '@kinesis-kit/aggregation';
import { ManualClock } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { KinesisProducer } from '../src/index.js';
import { readBack, text, useMockPerTest } from './helpers.js';

// strictOrdering across a MergeShards (docs/producing.md "Ordering"): per key, the parents hold the
// older records and the child the newer ones. When one parent's container lands on the child, the
// other parent may still hold older records (queued, here behind its rate limiter): records put
// after the merge for that parent's keys must not reach the child before them.
// The producer runs on a ManualClock (its rate limiter refills only when the test says so); the
// mock server answers in real time, with its own limits off.

const mock = useMockPerTest();

const HALF = 1n << 127n;
const keyIn = (low: boolean): string => {
  for (let i = 0; ; i++) if (partitionKeyToHashKey(`m${i}`) < HALF === low) return `m${i}`;
};

describe('strictOrdering across a MergeShards', () => {
  it("records put after the merge for the other parent's keys wait for that parent's older records", async () => {
    const { server, client } = await mock.start({ streams: [{ name: 's', shardCount: 2 }], limits: false });
    const clock = new ManualClock();
    // rateLimit 1: shard 0's byte bucket (1 MiB) refills at about 10 kB/s of the ManualClock.
    // One record per request, sent as soon as the limiter lets it through.
    const producer = new KinesisProducer({
      streamName: 's',
      kinesisClient: client,
      clock,
      strictOrdering: true,
      rateLimit: 1,
      aggregationEnabled: false,
      collectionMaxCount: 1,
    });
    mock.track(producer);
    await producer.ready();
    const [a, b] = [keyIn(true), keyIn(false)]; // shard 0's range, shard 1's range
    // Drain shard 0's byte bucket to about 48 kB...
    await Promise.all([producer.put({ partitionKey: a, data: new Uint8Array(500_000) }), producer.put({ partitionKey: a, data: new Uint8Array(500_000) })]);
    // ...so a 100 kB record waits in shard 0's limiter (until the clock moves about 5 s).
    const older = producer.put({ partitionKey: a, data: Buffer.alloc(100_000, 'o') });
    await client.send(new MergeShardsCommand({ StreamName: 's', ShardToMerge: 'shardId-000000000000', AdjacentShardToMerge: 'shardId-000000000001' }));
    // Shard 1's record lands on the child: the producer learns of the merge.
    expect((await producer.put({ partitionKey: b, data: 'b' })).shardId).toBe('shardId-000000000002');
    await clock.advance(0);
    const newer = producer.put({ partitionKey: a, data: 'n' });
    await clock.advance(0);
    await clock.advance(10_000); // shard 0's bucket lets the older record go
    const [o, n] = await Promise.all([older, newer]);
    expect([o.shardId, n.shardId]).toEqual(['shardId-000000000002', 'shardId-000000000002']);
    const back = await readBack(server, client, 's');
    const onChild = back.byShard.get('shardId-000000000002')!.filter((r) => r.partitionKey === a);
    expect(onChild.map((r) => text(r.data).slice(0, 1))).toEqual(['o', 'n']);
  });
});
