/**
 * The life of one lease on this worker (the KCL's ConsumerStates, named for people):
 * waiting-on-parents -> initializing -> processing -> shard-ended | lease-lost | shutting-down -> done.
 */
export type ShardConsumerState =
  | 'waiting-on-parents'
  | 'initializing'
  | 'processing'
  | 'shard-ended'
  | 'lease-lost'
  | 'shutting-down'
  | 'shutdown-complete';

/** One shard in `consumer.status()`. */
export interface ShardStatus {
  shardId: string;
  leaseKey: string;
  state: ShardConsumerState;
  /** The last checkpoint written (or read at acquisition): a sequence number or a sentinel. */
  checkpoint?: string;
  checkpointSubSequenceNumber?: number;
  millisBehindLatest?: number;
  /** User records delivered successfully since this worker took the lease. */
  recordsProcessed: number;
  /** Kinesis records waiting in the prefetch buffer. */
  prefetchedRecords: number;
  blockedOn?: string[];
}
