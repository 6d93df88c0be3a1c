/**
 * The peer of the consumer benchmark: what a Node team writes without a KCL — per shard, a plain
 * GetShardIterator + GetRecords loop, deaggregating with aws-kinesis-agg (checksums on), no lease
 * table and no checkpoints. `idleMillis` sleeps between reads as the KCL's polling does
 * (idleTimeBetweenReadsInMillis, 1500 ms by default).
 */
import { createRequire } from 'node:module';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type ShardIteratorType } from '@aws-sdk/client-kinesis';

/** aws-kinesis-agg hands back base64 strings for sub-records and the SDK's bytes for pass-through records. */
export interface PeerUserRecord {
  data?: string | Uint8Array;
  Data?: string | Uint8Array;
}

export function peerRecordData(r: PeerUserRecord): Buffer {
  const d = r.data ?? r.Data ?? '';
  return typeof d === 'string' ? Buffer.from(d, 'base64') : Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}
const agg = createRequire(import.meta.url)('aws-kinesis-agg') as {
  deaggregateSync(record: object, computeChecksums: boolean, cb: (err: Error | null, records?: PeerUserRecord[]) => void): void;
};

export interface PeerPoller {
  stop(): Promise<void>;
}

export async function startPeerPoller(
  kinesis: KinesisClient,
  streamName: string,
  from: ShardIteratorType,
  idleMillis: number,
  onRecords: (records: PeerUserRecord[]) => void,
): Promise<PeerPoller> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const controller = new AbortController();
  const loops = shards.map(async (shard) => {
    let iterator = (
      await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId!, ShardIteratorType: from }))
    ).ShardIterator;
    while (iterator && !controller.signal.aborted) {
      try {
        const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }), { abortSignal: controller.signal });
        for (const record of page.Records ?? []) {
          agg.deaggregateSync(record, true, (err, out) => {
            if (err) throw err;
            onRecords(out ?? []);
          });
        }
        iterator = page.NextShardIterator;
      } catch (err) {
        if (controller.signal.aborted) return;
        if ((err as { name?: string }).name !== 'ProvisionedThroughputExceededException') throw err;
      }
      if (idleMillis > 0) await new Promise((resolve) => setTimeout(resolve, idleMillis));
    }
  });
  return {
    stop: async () => {
      controller.abort();
      await Promise.allSettled(loops);
    },
  };
}
