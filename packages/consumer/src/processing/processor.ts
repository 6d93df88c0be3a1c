import type { UserRecord } from '@kinesis-kit/aggregation';
import type { Checkpointer, PendingCheckpoint } from '../checkpoint/checkpointer.js';

/** A child shard as GetRecords / SubscribeToShard report it at the end of a closed shard. */
export interface ChildShard {
  shardId: string;
  parentShards: string[];
  hashKeyRange: { startingHashKey: string; endingHashKey: string };
}

/** KCL InitializationInput: where processing of the shard starts. */
export interface InitializationInput {
  shardId: string;
  /** The lease's checkpoint: a sequence number or TRIM_HORIZON / LATEST / AT_TIMESTAMP. */
  sequenceNumber: string;
  subSequenceNumber: number;
  /** A prepared (two-phase) checkpoint left by the previous owner, with its application state. */
  pendingCheckpoint?: PendingCheckpoint;
}

/** KCL ProcessRecordsInput. */
export interface ProcessRecordsInput {
  shardId: string;
  /** Deaggregated user records, in order; never empty unless callProcessRecordsEvenForEmptyRecordList. */
  records: UserRecord[];
  checkpointer: Checkpointer;
  /** How far the shard's newest record is ahead of this batch (from GetRecords). */
  millisBehindLatest: number;
  /** True on the batch that reached the end of a closed shard (shardEnded follows). */
  isAtShardEnd: boolean;
  /** The children of the shard, on the batch that reached its end. */
  childShards?: ChildShard[];
  /** How many times this batch (or a part of it) was delivered before and failed. */
  attempt: number;
  /** Aborts when the lease is lost: stop work that would be wasted. */
  signal: AbortSignal;
}

/**
 * Lambda-style partial success: the records from the first listed one on are treated as failed
 * and delivered again (after backoff); the ones before it count as processed.
 */
export interface ProcessRecordsResult {
  batchItemFailures: { sequenceNumber: string; subSequenceNumber?: number }[];
}

export type LeaseLostInput = Record<string, never>;

export interface ShardEndedInput {
  shardId: string;
  /** Checkpoint here (checkpoint() writes SHARD_END); the consumer does it if you do not (autoCheckpointAtShardEnd). */
  checkpointer: Checkpointer;
}

export interface ShutdownRequestedInput {
  shardId: string;
  /** A last chance to checkpoint before the lease is released. */
  checkpointer: Checkpointer;
}

/**
 * One instance per held lease, with the KCL's lifecycle: initialize, then processRecords for
 * each batch, then exactly one of leaseLost / shardEnded / shutdownRequested. Every method may
 * return a promise; the next call waits for it. Calls for one shard never overlap.
 */
export interface ShardRecordProcessor {
  initialize?(input: InitializationInput): void | Promise<void>;
  processRecords(input: ProcessRecordsInput): void | ProcessRecordsResult | Promise<void | ProcessRecordsResult>;
  /** Another worker holds the lease now: do not checkpoint (it would fail with LeaseLostError). */
  leaseLost?(input: LeaseLostInput): void | Promise<void>;
  shardEnded?(input: ShardEndedInput): void | Promise<void>;
  shutdownRequested?(input: ShutdownRequestedInput): void | Promise<void>;
}

export type ShardRecordProcessorFactory = (shardId: string) => ShardRecordProcessor;

/** What eachBatch handlers receive (KafkaJS style); the consumer checkpoints after each batch that succeeds. */
export interface EachBatchPayload {
  shardId: string;
  records: UserRecord[];
  millisBehindLatest: number;
  isAtShardEnd: boolean;
  attempt: number;
  signal: AbortSignal;
}

export type EachBatchHandler = (payload: EachBatchPayload) => void | ProcessRecordsResult | Promise<void | ProcessRecordsResult>;

export interface EachRecordPayload {
  shardId: string;
  record: UserRecord;
  signal: AbortSignal;
}

export type EachRecordHandler = (payload: EachRecordPayload) => void | Promise<void>;
