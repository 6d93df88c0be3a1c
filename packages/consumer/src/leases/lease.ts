import type { ExtendedSequenceNumber, HashKeyRangeStrings } from '@kinesis-kit/aggregation';

/**
 * One lease as stored in the KCL lease table (one item per shard). Field names follow the item's
 * attribute names; `shardId`/`streamIdentifier` are parsed from the key. Attributes we do not model
 * (KCL 3.x `throughputKBps` aside) stay in the table untouched: every write is an UpdateItem of our
 * own attributes only.
 */
export interface Lease {
  leaseKey: string;
  shardId: string;
  /** Multi-stream leases only: `account:stream:creationEpochSeconds`. */
  streamIdentifier?: string;
  /** Absent = unowned (available to any worker at once). */
  leaseOwner?: string;
  /** Fencing token and heartbeat: every mutation is conditional on it and increments it. */
  leaseCounter: bigint;
  /** Absent only on items not written by a KCL (the KCL always writes one). */
  checkpoint?: ExtendedSequenceNumber;
  pendingCheckpoint?: ExtendedSequenceNumber;
  pendingCheckpointState?: Uint8Array;
  ownerSwitchesSinceCheckpoint: number;
  /** Attribute `parentShardId` (SS; singular name in the table). */
  parentShardIds: string[];
  childShardIds: string[];
  hashKeyRange?: HashKeyRangeStrings;
  /** KCL 3.x graceful handoff in progress (the previous owner is finishing): not taken by us, unless abandoned (see LeaseTaker). */
  checkpointOwner?: string;
  /** KCL 3.x throughput EMA; read for information, never written by us. */
  throughputKBps?: number;
}

/** What `createLeaseIfNotExists` writes (shard sync, child leases). */
export interface NewLease {
  leaseKey: string;
  checkpoint: ExtendedSequenceNumber;
  leaseOwner?: string;
  parentShardIds?: readonly string[];
  childShardIds?: readonly string[];
  hashKeyRange?: HashKeyRangeStrings;
  pendingCheckpoint?: ExtendedSequenceNumber;
  pendingCheckpointState?: Uint8Array;
}

/** A deep-enough copy for handing a lease to listeners without sharing our mutable record. */
export function copyLease(lease: Lease): Lease {
  return {
    ...lease,
    checkpoint: lease.checkpoint && { ...lease.checkpoint },
    pendingCheckpoint: lease.pendingCheckpoint && { ...lease.pendingCheckpoint },
    pendingCheckpointState: lease.pendingCheckpointState && lease.pendingCheckpointState.slice(),
    parentShardIds: [...lease.parentShardIds],
    childShardIds: [...lease.childShardIds],
    hashKeyRange: lease.hashKeyRange && { ...lease.hashKeyRange },
  };
}
