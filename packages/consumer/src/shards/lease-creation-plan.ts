import { compareSequenceNumbers, SentinelCheckpoint } from '@kinesis-kit/aggregation';
import type { NewLease } from '../leases/lease.js';
import type { ShardInfo } from './shard-lister.js';

/** The initial position as stored in new leases (the KCL stores the sentinel; the timestamp lives in config). */
export type InitialPositionSentinel = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

export interface LeaseCreationInput {
  shards: readonly ShardInfo[];
  /** Existing leases by shard id: only the checkpoint matters here. */
  leases: ReadonlyMap<string, { checkpoint?: { sequenceNumber: string } }>;
  initialPosition: InitialPositionSentinel;
  /** The lease table is empty (the shards were listed with the initial position's ShardFilter). */
  emptyTable?: boolean;
}

/**
 * Which leases a shard sync creates (the KCL's hierarchical rules, simplified to one walk):
 * for every open shard without a lease, look up its ancestors until a leased one.
 * - An ancestor whose lease is not at SHARD_END is still being processed: its end creates the
 *   children, so nothing is created now.
 * - Leased ancestors all finished (a gap: e.g. a crash between a parent's end and its children's
 *   creation): the shard and its unleased ancestors get leases at TRIM_HORIZON, so nothing after
 *   the parents is skipped.
 * - No leased ancestor (empty table, or a new lineage): LATEST creates the open shard only;
 *   TRIM_HORIZON and AT_TIMESTAMP create the shard and every listed ancestor at that position.
 * - An empty table listed with TRIM_HORIZON or AT_TIMESTAMP also gets a lease for every listed
 *   closed shard, as the KCL's EmptyLeaseTableSynchronizer does: ListShards filtered by
 *   AT_TRIM_HORIZON / AT_TIMESTAMP returns the shards open at that point, which on a stream
 *   resharded since are closed parents with no open shard listed. Their ends create the children.
 * Children wait for their parents at run time (parentShardId), so processing order is kept.
 * Leases come out parents first (by starting sequence number), as the KCL creates them.
 */
export function planLeaseCreation(input: LeaseCreationInput): NewLease[] {
  const byId = new Map(input.shards.map((s) => [s.shardId, s]));
  const planned = new Map<string, { shard: ShardInfo; position: string }>();
  for (const shard of input.shards) {
    if (shard.endingSequenceNumber !== undefined || input.leases.has(shard.shardId)) continue;
    const unleased: ShardInfo[] = [];
    const leasedAncestors: string[] = [];
    const seen = new Set<string>();
    const walk = (s: ShardInfo): void => {
      for (const parentId of s.parentShardIds) {
        if (seen.has(parentId)) continue;
        seen.add(parentId);
        if (input.leases.has(parentId)) {
          leasedAncestors.push(parentId);
          continue;
        }
        const parent = byId.get(parentId);
        if (!parent) continue; // trimmed beyond retention: nothing left to read
        unleased.push(parent);
        walk(parent);
      }
    };
    walk(shard);
    const unfinished = leasedAncestors.some((id) => input.leases.get(id)?.checkpoint?.sequenceNumber !== SentinelCheckpoint.SHARD_END);
    if (unfinished) continue;
    if (leasedAncestors.length > 0) {
      for (const s of [...unleased, shard]) plan(planned, s, SentinelCheckpoint.TRIM_HORIZON);
    } else if (input.initialPosition === 'LATEST') {
      plan(planned, shard, SentinelCheckpoint.LATEST);
    } else {
      for (const s of [...unleased, shard]) plan(planned, s, input.initialPosition);
    }
  }
  if (input.emptyTable && input.initialPosition !== 'LATEST') {
    for (const shard of input.shards) if (shard.endingSequenceNumber !== undefined) plan(planned, shard, input.initialPosition);
  }
  return [...planned.values()]
    .sort((a, b) => compareSequenceNumbers(a.shard.startingSequenceNumber, b.shard.startingSequenceNumber) || (a.shard.shardId < b.shard.shardId ? -1 : 1))
    .map(({ shard, position }) => ({
      leaseKey: shard.shardId,
      checkpoint: { sequenceNumber: position, subSequenceNumber: 0 },
      parentShardIds: shard.parentShardIds,
      hashKeyRange: shard.hashKeyRange,
    }));
}

function plan(planned: Map<string, { shard: ShardInfo; position: string }>, shard: ShardInfo, position: string): void {
  // A shard reached from two lineages keeps the first position planned (TRIM_HORIZON wins over a start position).
  const existing = planned.get(shard.shardId);
  if (!existing || (existing.position !== SentinelCheckpoint.TRIM_HORIZON && position === SentinelCheckpoint.TRIM_HORIZON)) {
    planned.set(shard.shardId, { shard, position });
  }
}
