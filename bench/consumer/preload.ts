/** Fills a stream with KPL-aggregated records (100-byte user records) fast: one RecordAggregator per shard, PutRecords of up to 5 MiB. */
import { randomBytes } from 'node:crypto';
import { ListShardsCommand, PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { hashKeyInRange, partitionKeyToHashKey, RecordAggregator, toHashKeyRange } from '@kinesis-kit/aggregation';

export async function preloadAggregated(kinesis: KinesisClient, streamName: string, userRecords: number, keys = 1000): Promise<void> {
  const shards = ((await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? []).map((s) => ({
    range: toHashKeyRange({ startingHashKey: s.HashKeyRange!.StartingHashKey!, endingHashKey: s.HashKeyRange!.EndingHashKey! }),
    aggregator: new RecordAggregator(),
  }));
  const keyShard = Array.from({ length: keys }, (_, k) => {
    const hash = partitionKeyToHashKey(`key-${k}`);
    return shards.findIndex((s) => hashKeyInRange(hash, s.range));
  });
  const payload = randomBytes(100);
  let entries: PutRecordsRequestEntry[] = [];
  let bytes = 0;
  const send = async (): Promise<void> => {
    if (entries.length === 0) return;
    const out = await kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
    if (out.FailedRecordCount) throw new Error(`preload: ${out.FailedRecordCount} records failed`);
    entries = [];
    bytes = 0;
  };
  const add = async (c: { partitionKey: string; explicitHashKey: string; data: Uint8Array }): Promise<void> => {
    if (entries.length === 500 || bytes + c.data.length + 1 > 5 * 1024 * 1024) await send();
    entries.push({ PartitionKey: c.partitionKey, ExplicitHashKey: c.explicitHashKey, Data: c.data });
    bytes += c.data.length + c.partitionKey.length;
  };
  for (let i = 0; i < userRecords; i++) {
    const k = i % keys;
    const shard = shards[keyShard[k]!]!;
    for (const c of shard.aggregator.add({ partitionKey: `key-${k}`, data: payload })) await add(c);
  }
  for (const s of shards) {
    const last = s.aggregator.flush();
    if (last) await add(last);
  }
  await send();
}
