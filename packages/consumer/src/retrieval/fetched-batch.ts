import type { _Record, ChildShard as SdkChildShard } from '@aws-sdk/client-kinesis';
import { classifyAwsError, errorFields, type Logger, type RepeatedLog } from '@kinesis-kit/core';
import type { ChildShard } from '../processing/processor.js';
import type { FetchedBatch, RetrievalErrorInfo } from './records-fetcher.js';

/** A batch as both retrievals queue it; `childShards` marks the last batch of a closed shard. */
export function fetchedBatch(records: _Record[], millisBehindLatest: number, receivedAt: number, childShards?: ChildShard[]): FetchedBatch {
  let bytes = 0;
  for (const r of records) bytes += r.Data?.length ?? 0;
  const batch: FetchedBatch = { records, millisBehindLatest, count: records.length, bytes, receivedAt };
  if (childShards) batch.shardEnd = { childShards };
  return batch;
}

/** ChildShards as GetRecords and SubscribeToShard return them, in our shape (incomplete entries dropped). */
export function toChildShards(shards: readonly SdkChildShard[] | undefined): ChildShard[] {
  return (shards ?? [])
    .filter((s) => s.ShardId && s.HashKeyRange?.StartingHashKey !== undefined && s.HashKeyRange.EndingHashKey !== undefined)
    .map((s) => ({
      shardId: s.ShardId!,
      parentShards: [...(s.ParentShards ?? [])],
      hashKeyRange: { startingHashKey: s.HashKeyRange!.StartingHashKey!, endingHashKey: s.HashKeyRange!.EndingHashKey! },
    }));
}

/**
 * Logs a retrieval failure (at warn when `loud`, else debug; loud ones through the shared
 * `failureLog`, with `suppressed`) and hands it to the consumer's event.
 */
export function reportRetrievalError(
  ctx: { shardId: string; logger: Logger; failureLog?: RepeatedLog; onError(info: RetrievalErrorInfo): void },
  operation: string,
  err: unknown,
  kind: RetrievalErrorInfo['kind'],
  loud: boolean,
): void {
  const error = err instanceof Error ? err : new Error(String(err));
  const fields = { shardId: ctx.shardId, operation, kind, ...errorFields(err) };
  if (!loud) ctx.logger.debug(fields, `${operation} failed`);
  else if (!ctx.failureLog) ctx.logger.warn(fields, `${operation} failed`);
  else {
    ctx.failureLog.note(`${operation}:${classifyAwsError(err).code}`, (repeats) => ctx.logger.warn({ ...fields, ...repeats }, `${operation} failed`));
  }
  ctx.onError({ shardId: ctx.shardId, operation, error, kind });
}
