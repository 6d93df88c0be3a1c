import type { LeaseCoordinatorEvents } from '../leases/events.js';
import type { KclMigrationState } from '../leases/kcl-migration-state.js';
import type { ProcessingErrorInfo, RecordsSkippedInfo } from '../processing/batch-delivery.js';
import type { ShardConsumerState } from '../processing/shard-consumer-state.js';
import type { RetrievalErrorInfo } from '../retrieval/records-fetcher.js';

export interface ShardStateChangedEvent {
  shardId: string;
  leaseKey: string;
  state: ShardConsumerState;
  previous: ShardConsumerState;
  /** Parents still being processed, while the state is waiting-on-parents. */
  blockedOn?: string[];
}

export interface ShardEndedEvent {
  shardId: string;
  leaseKey: string;
  childShardIds: string[];
}

export interface ShardSyncEvent {
  created: string[];
  deleted: string[];
  leases: number;
  shards: number;
  durationMs: number;
}

export interface ConsumerErrorEvent {
  /**
   * What was being done: 'initialize', 'shardEnded', 'shutdownRequested', 'leaseLost', 'shardSync',
   * 'childLeases', 'checkpoint', 'waitForParents' (a parent's lease could not be read), 'onFailure'
   * (the failure policy's hook threw), 'shardConsumer' (unexpected).
   */
  operation: string;
  shardId?: string;
  error: Error;
}

/**
 * The KCL 3.x migration state of a fleet sharing the lease table (looked for only when the table
 * has the `LeaseOwnerToLeaseKeyIndex` KCL 3.x creates): at start, then whenever its `cv` changes,
 * whether its Java workers run becomes known, or they start or stop running.
 */
export interface KclMigrationStateEvent extends KclMigrationState {
  /** The `cv` reported before, when this is a change. */
  previousClientVersion?: string;
  /**
   * In 3.x mode and the 2.x-compatible upgrade mode: how many of the fleet's KCL workers reported
   * worker metrics in the last 60 s (0: the fleet is stopped). Absent when not known (no report
   * found, or a table that may hold them unreadable) or in other modes, whose workers publish none.
   */
  liveKclWorkers?: number;
  /** The newest worker-metrics report seen, epoch milliseconds. */
  lastKclWorkerReportAt?: number;
}

/**
 * Events of the KinesisConsumer (`consumer.on(name, fn)` returns a remover; listener errors are
 * isolated): its own, plus every lease coordinator event, passed on as is.
 */
export interface KinesisConsumerEvents extends LeaseCoordinatorEvents {
  shardStateChanged: ShardStateChangedEvent;
  shardEnded: ShardEndedEvent;
  processingError: ProcessingErrorInfo;
  recordsSkipped: RecordsSkippedInfo;
  retrievalError: RetrievalErrorInfo;
  shardSync: ShardSyncEvent;
  kclMigrationState: KclMigrationStateEvent;
  error: ConsumerErrorEvent;
}
