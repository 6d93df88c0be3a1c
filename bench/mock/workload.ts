/** The client-side loops the mock benchmark runs against every target. */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { keepAliveKinesisClient } from '../kinesis-client.js';

export function keepAliveClient(endpoint: string, maxSockets = 16): KinesisClient {
  return keepAliveKinesisClient(endpoint, maxSockets);
}

/** Creates the stream if needed and waits until it is ACTIVE. */
export async function ensureStream(client: KinesisClient, StreamName: string, ShardCount: number): Promise<string[]> {
  try {
    await client.send(new CreateStreamCommand({ StreamName, ShardCount }));
  } catch (err) {
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
  for (let i = 0; i < 300; i++) {
    const s = await client.send(new DescribeStreamSummaryCommand({ StreamName }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const shards = await client.send(new ListShardsCommand({ StreamName }));
  return shards.Shards!.map((s) => s.ShardId!);
}

export interface Measured {
  /** Records per second. */
  rate: number;
  records: number;
}

async function during(ms: number, concurrency: number, body: (worker: number) => Promise<number>): Promise<Measured> {
  const end = performance.now() + ms;
  let records = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < end) records += await body(w);
    }),
  );
  return { rate: (records * 1000) / (performance.now() - start), records };
}

/** PutRecords of `batch` x `recordBytes` records, `concurrency` calls in flight; records accepted. */
export async function putRate(client: KinesisClient, StreamName: string, ms: number, concurrency: number, batch = 500, recordBytes = 100): Promise<Measured> {
  const data = Buffer.alloc(recordBytes, 0x62);
  let key = 0;
  const call = async () => {
    const Records = Array.from({ length: batch }, () => ({ PartitionKey: `pk-${key++}`, Data: data }));
    const res = await client.send(new PutRecordsCommand({ StreamName, Records }));
    return batch - (res.FailedRecordCount ?? 0);
  };
  await during(Math.min(300, ms / 4), concurrency, call);
  return during(ms, concurrency, call);
}

/** GetRecords loops, one per shard (restarting at TRIM_HORIZON at the end); records received. */
export async function getRate(client: KinesisClient, StreamName: string, shardIds: string[], ms: number, limit = 10_000): Promise<Measured> {
  const iterators = new Map<number, string | undefined>();
  const call = async (w: number) => {
    const ShardId = shardIds[w % shardIds.length]!;
    let it = iterators.get(w);
    if (!it) it = (await client.send(new GetShardIteratorCommand({ StreamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    const res = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: limit }));
    const n = res.Records?.length ?? 0;
    // A short batch means the end of what is stored: start over rather than ask again for nothing.
    iterators.set(w, n === limit && res.NextShardIterator ? res.NextShardIterator : undefined);
    return n;
  };
  await during(Math.min(300, ms / 4), shardIds.length, call);
  return during(ms, shardIds.length, call);
}
