import type { _Record } from '@aws-sdk/client-kinesis';
import type { ChildShard } from '../processing/processor.js';

/** Where a shard's retrieval starts (GetShardIterator types; fan-out uses the same). */
export type StartPosition =
  | { type: 'TRIM_HORIZON' }
  | { type: 'LATEST' }
  | { type: 'AT_TIMESTAMP'; timestamp: Date }
  | { type: 'AT_SEQUENCE_NUMBER'; sequenceNumber: string }
  | { type: 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string };

/** One answer of the retrieval (a GetRecords page or a SubscribeToShard event), before deaggregation. */
export interface FetchedBatch {
  records: _Record[];
  millisBehindLatest: number;
  /** Set on the last batch of a closed shard (no more records follow). */
  shardEnd?: { childShards: ChildShard[] };
  /** Kinesis records in `records` (for the prefetch bound). */
  count: number;
  /** Data bytes in `records`. */
  bytes: number;
  /** Monotonic time the batch arrived. */
  receivedAt: number;
}

/** A retrieval error worth reporting (it is retried; nothing is lost). */
export interface RetrievalErrorInfo {
  shardId: string;
  operation: string;
  error: Error;
  kind: 'throttling' | 'transient' | 'network' | 'permanent' | 'expired-iterator';
}

/** Polling or fan-out: a shard's source of batches. */
export interface RecordsFetcher {
  /** The next batch (waits for one); rejects only when `signal` aborts or the fetcher was closed. */
  next(signal: AbortSignal): Promise<FetchedBatch>;
  /** Kinesis records and bytes waiting in the prefetch buffer. */
  readonly buffered: { records: number; bytes: number };
  /** Stops fetching and releases timers and requests. */
  close(): Promise<void>;
}
