import { ListShardsCommand, UpdateShardCountCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it, vi } from 'vitest';
import { KinesisProducer, type UserRecordResult } from '../src/index.js';
import { readBack, text, useMockPerTest } from './helpers.js';

// Bounded memory across reshards (DESIGN.md): the producer keeps an aggregator and a rate-limiter
// queue per shard. Those of shards that closed must go once they hold nothing, or a stream that is
// resharded again and again makes every drain tick and flush walk all the shards it ever had.

const mock = useMockPerTest();

/** The producer's per-shard entries and its shard map (internals, read for their counts only). */
interface Internals {
  aggregators: { shardIds(): IterableIterator<string> };
  limiter: { shardIds(): IterableIterator<string> };
  shardMap: { openShardIds: string[] };
}

async function openShards(c: KinesisClient): Promise<string[]> {
  const out = await c.send(new ListShardsCommand({ StreamName: 's', ShardFilter: { Type: 'AT_LATEST' } }));
  return (out.Shards ?? []).map((s) => s.ShardId!).sort();
}

describe.each([false, true])('strictOrdering %s: per-shard entries across repeated UpdateShardCount', (strictOrdering) => {
  it('keep to the open shards, and no record is lost', async () => {
    const { server, client } = await mock.start({ streams: [{ name: 's', shardCount: 4 }], limits: false });
    const producer = new KinesisProducer({ streamName: 's', kinesisClient: client, strictOrdering, recordMaxBufferedTime: 20, retryBaseDelay: 10, retryMaxDelay: 50 });
    mock.track(producer);
    const internals = producer as unknown as Internals;
    await producer.ready();
    const KEYS = 400;
    const written = new Map<string, string[]>(); // key -> data put, in put() order
    let n = 0;
    const putSome = (): Promise<UserRecordResult>[] => {
      const out: Promise<UserRecordResult>[] = [];
      for (let i = 0; i < KEYS; i++) {
        const key = `entity-${i}`;
        const data = `v${n++}`;
        let list = written.get(key);
        if (!list) written.set(key, (list = []));
        list.push(data);
        out.push(producer.put({ partitionKey: key, data }));
      }
      return out;
    };
    const seenShards = new Set<string>();
    const ROUNDS = 6;
    for (let round = 0; round < ROUNDS; round++) {
      // Records in flight while the stream reshards, and more after it, predicted with the stale map.
      const before = putSome();
      await client.send(new UpdateShardCountCommand({ StreamName: 's', TargetShardCount: round % 2 === 0 ? 8 : 4, ScalingType: 'UNIFORM_SCALING' }));
      const after = putSome();
      const results = await Promise.all([...before, ...after]);
      expect(results.every((r) => r.successful)).toBe(true);
      const open = await openShards(client);
      for (const id of open) seenShards.add(id);
      // The records landing on other shards made the producer refresh its map.
      await vi.waitFor(() => expect([...internals.shardMap.openShardIds].sort()).toEqual(open), { timeout: 5_000, interval: 5 });
      await producer.flush();
      const aggregators = [...internals.aggregators.shardIds()];
      const queues = [...internals.limiter.shardIds()];
      expect(aggregators.filter((id) => !open.includes(id))).toEqual([]);
      expect(queues.filter((id) => !open.includes(id))).toEqual([]);
      expect(aggregators.length).toBeLessThanOrEqual(open.length);
      expect(queues.length).toBeLessThanOrEqual(open.length);
    }
    expect(seenShards.size).toBeGreaterThan(20); // the stream did go through many shards
    expect(producer.outstandingRecords).toBe(0);

    // Nothing lost: a range-checking reader sees every record (a container sent again after landing
    // on another shard may leave a copy the range check drops).
    const back = await readBack(server, client, 's');
    const read = new Map<string, Set<string>>();
    for (const records of back.byShard.values()) {
      for (const r of records) {
        let set = read.get(r.partitionKey);
        if (!set) read.set(r.partitionKey, (set = new Set()));
        set.add(text(r.data));
      }
    }
    let missing = 0;
    for (const [key, values] of written) for (const v of values) if (!read.get(key)?.has(v)) missing++;
    expect(missing).toBe(0);
    expect(n).toBe(ROUNDS * 2 * KEYS);
    if (strictOrdering) {
      // Read as the KCL does, parents before children (the mock numbers a child after its parents):
      // per key, put() order.
      const byKey = new Map<string, number[]>();
      for (const shardId of [...back.byShard.keys()].sort()) {
        for (const r of back.byShard.get(shardId)!) {
          let list = byKey.get(r.partitionKey);
          if (!list) byKey.set(r.partitionKey, (list = []));
          list.push(Number(text(r.data).slice(1)));
        }
      }
      let outOfOrder = 0;
      for (const list of byKey.values()) for (let i = 1; i < list.length; i++) if (list[i]! <= list[i - 1]!) outOfOrder++;
      expect(outOfOrder).toBe(0);
    }
  });
});
