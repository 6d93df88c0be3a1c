import { partitionKeyToHashKey, RecordAggregator } from '@kinesis-kit/aggregation';
import { describe, expect, it } from 'vitest';
import { KinesisProducer, type UserRecordResult } from '../src/index.js';
import { readBack, useMockPerTest } from './helpers.js';

// The backend takes at most 1 MiB per record, partition key + data (kpl.md §1.3), and an aggregated
// container goes out with the key "a". aggregationMaxSize accepts up to 10 MiB (the KPL's range, for
// streams whose MaxRecordSizeInKiB was raised), so containers are capped at 1 MiB - 1 byte (or
// maxUserRecordSize - 1 when that is larger): a container over the limit would fail its whole
// PutRecords with a ValidationException, records of other shards included.

const mock = useMockPerTest();

const MiB = 1024 * 1024;
const HALF = 1n << 127n;

/** Two keys of the lower half of the hash space (one shard of two) and one of the upper half. */
function keys(): { low: [string, string]; high: string } {
  const low: string[] = [];
  let high: string | undefined;
  for (let i = 0; low.length < 2 || high === undefined; i++) {
    const k = `k${i}`;
    if (partitionKeyToHashKey(k) < HALF) low.push(k);
    else high ??= k;
  }
  return { low: [low[0]!, low[1]!], high };
}

/** The data length that makes the two records one container of exactly `size` bytes. */
function fillTo(size: number, first: { partitionKey: string; data: Uint8Array }, secondKey: string): number {
  // Framing (magic, key table, record headers, MD5) takes well under 100 bytes here.
  for (let n = size - first.data.length - 100; n < size - first.data.length; n++) {
    const agg = new RecordAggregator({ maxSize: size });
    agg.add(first);
    if (agg.add({ partitionKey: secondKey, data: new Uint8Array(n) }).length === 0 && agg.size === size) return n;
  }
  throw new Error('no data length fills the container exactly');
}

describe('aggregated containers fit one PutRecords entry', () => {
  it('aggregationMaxSize 1 MiB: two records that would fill a container of exactly 1 MiB go out apart, and nothing fails', async () => {
    const { server, client } = await mock.start({ streams: [{ name: 's', shardCount: 2 }] });
    const producer = new KinesisProducer({ streamName: 's', kinesisClient: client, aggregationMaxSize: MiB, recordMaxBufferedTime: 60_000 });
    mock.track(producer);
    await producer.ready();
    const { low, high } = keys();
    const first = { partitionKey: low[0], data: new Uint8Array(500_000) };
    const second = { partitionKey: low[1], data: new Uint8Array(fillTo(MiB, first, low[1])) };
    const puts = [producer.put(first), producer.put(second), producer.put({ partitionKey: high, data: 'tiny' })];
    await producer.flush();
    const results = await Promise.allSettled(puts);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const [a, b] = results.map((r) => (r as PromiseFulfilledResult<UserRecordResult>).value);
    expect(a!.sequenceNumber).not.toBe(b!.sequenceNumber); // two Kinesis records, not one container
    const back = await readBack(server, client, 's');
    expect([...back.byShard.values()].flat().map((r) => r.partitionKey).sort()).toEqual([low[0], low[1], high].sort());
  });
});
