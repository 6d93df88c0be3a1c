import type { ShardFilter } from '@aws-sdk/client-kinesis';
import { rangesCoverHashSpace, SentinelCheckpoint, toHashKeyRange } from '@kinesis-kit/aggregation';
import { errorFields, sleep, type Clock, type Logger } from '@kinesis-kit/core';
import type { Lease, NewLease } from '../leases/lease.js';
import type { LeaseTable } from '../leases/lease-table.js';
import type { MetricsScope } from '../leases/metrics.js';
import type { ChildShard } from '../processing/processor.js';
import { planLeaseCreation, type InitialPositionSentinel } from './lease-creation-plan.js';
import type { ShardInfo, ShardLister } from './shard-lister.js';

export interface ShardSyncerContext {
  table: LeaseTable;
  lister: ShardLister;
  initialPosition: InitialPositionSentinel;
  /** AT_TIMESTAMP start, for the ListShards filter of an empty table. */
  initialTimestamp: Date | undefined;
  clock: Clock;
  logger: Logger;
  metrics: MetricsScope;
  /** Gives up a lease this worker holds (before its row is deleted). */
  releaseIfHeld(leaseKey: string, signal: AbortSignal): Promise<void>;
}

export interface ShardSyncResult {
  created: string[];
  deleted: string[];
  leases: number;
  shards: number;
}

/**
 * Keeps the lease table in step with the stream's shards: the initial leases of an empty table,
 * child leases at a parent's end, the periodic audit that repairs gaps, and the cleanup of
 * finished parents once their children have started.
 */
export class ShardSyncer {
  constructor(private readonly ctx: ShardSyncerContext) {}

  /**
   * One full pass: scan leases, list shards (filtered by the initial position when the table is
   * empty), create the missing leases, delete finished parents whose children have started.
   * `options.leases`: the table's leases as listed moments ago, used instead of the scan (leases
   * are created only if absent, and a parent, once deletable, stays so).
   */
  async sync(signal: AbortSignal, options: { cleanup?: boolean; leases?: readonly Lease[] } = {}): Promise<ShardSyncResult> {
    const { table, lister } = this.ctx;
    const leases = options.leases ?? (await table.listLeases({ signal }));
    const empty = leases.length === 0;
    const shards = empty ? await this.listCoveringShards(signal) : await lister.list(undefined, signal);
    const byShard = new Map(leases.filter((l) => l.streamIdentifier === undefined).map((l) => [l.shardId, l]));
    const planned = planLeaseCreation({ shards, leases: byShard, initialPosition: this.ctx.initialPosition, emptyTable: empty });
    const created: string[] = [];
    for (const lease of planned) {
      if (await this.createLease(lease, 'ShardSyncTask', signal)) created.push(lease.leaseKey);
    }
    if (created.length > 0) this.ctx.logger.info({ created }, empty ? 'created the initial leases' : 'created leases for shards without one');
    const deleted = options.cleanup === false ? [] : await this.cleanup(leases, shards, signal);
    return { created, deleted, leases: leases.length + created.length - deleted.length, shards: shards.length };
  }

  /**
   * At a parent's end: a lease per child (TRIM_HORIZON, parents and hash range written), then the
   * child ids on the parent. A merge child is created only when the other parent has a lease too
   * (or had one that was cleaned up): otherwise that parent's records could be skipped; the other
   * parent's own end, or the audit, creates it then.
   */
  async createChildLeases(parent: Lease, children: readonly ChildShard[], signal: AbortSignal): Promise<string[]> {
    const { table, metrics } = this.ctx;
    const created: string[] = [];
    for (const child of children) {
      const others = child.parentShards.filter((p) => p !== parent.shardId);
      let missingParent: string | undefined;
      for (const other of others) {
        if (!(await table.getLease(other, { signal }))) missingParent = other;
      }
      if (missingParent !== undefined && !(await table.getLease(child.shardId, { signal }))) {
        metrics.add('MissingMergeParentLease', 1, 'Count', { Operation: 'ShutdownTask' });
        // Normal when a resharded stream is read from its start: the other parent's own parent has not
        // ended yet. Info, not warn: nothing is wrong, and nothing is skipped.
        this.ctx.logger.info(
          { shardId: parent.shardId, childShardId: child.shardId, missingParent },
          'merge child not created yet: the other parent has no lease (its end or the audit creates it)',
        );
        continue;
      }
      const lease: NewLease = {
        leaseKey: child.shardId,
        checkpoint: { sequenceNumber: SentinelCheckpoint.TRIM_HORIZON, subSequenceNumber: 0 },
        parentShardIds: child.parentShards.length > 0 ? child.parentShards : [parent.shardId],
        hashKeyRange: child.hashKeyRange,
      };
      if (await this.createLease(lease, 'ShutdownTask', signal)) created.push(child.shardId);
    }
    if (children.length > 0) {
      await table.updateLeaseMetadata(parent.leaseKey, { childShardIds: children.map((c) => c.shardId) }, { signal });
    }
    return created;
  }

  /** createLeaseIfNotExists with the KCL's CreateLease metrics (Success 1/0, Time). */
  private async createLease(lease: NewLease, operation: string, signal: AbortSignal): Promise<boolean> {
    const started = this.ctx.clock.monotonic();
    let ok = false;
    try {
      const created = await this.ctx.table.createLeaseIfNotExists(lease, { signal });
      ok = true;
      return created;
    } finally {
      this.ctx.metrics.call('CreateLease', ok, started, { Operation: operation });
    }
  }

  /** The children of a closed shard from ListShards (for backends whose GetRecords has no ChildShards). */
  async childShardsFromListing(shardId: string, signal: AbortSignal): Promise<ChildShard[]> {
    const children = await this.ctx.lister.childrenOf(shardId, signal);
    return children.map((c) => ({ shardId: c.shardId, parentShards: c.parentShardIds, hashKeyRange: c.hashKeyRange }));
  }

  /**
   * Deletes finished leases (SHARD_END) whose children all have leases that have started (checkpoint
   * moved off TRIM_HORIZON / AT_TIMESTAMP; being owned is not enough) and whose own parents' leases
   * are gone: the KCL's cleanup rule (kcl.md 4). While the parent stays, a child lease deleted
   * before it started is re-created at TRIM_HORIZON. Failures are left for the next pass.
   */
  async cleanup(leases: readonly Lease[], shards: readonly ShardInfo[], signal: AbortSignal): Promise<string[]> {
    const byKey = new Map(leases.map((l) => [l.leaseKey, l]));
    const deleted: string[] = [];
    for (const lease of leases) {
      if (lease.checkpoint?.sequenceNumber !== SentinelCheckpoint.SHARD_END || lease.streamIdentifier !== undefined) continue;
      if (lease.parentShardIds.some((p) => byKey.has(p))) continue;
      const children =
        lease.childShardIds.length > 0 ? lease.childShardIds : shards.filter((s) => s.parentShardIds.includes(lease.shardId)).map((s) => s.shardId);
      if (children.length === 0) continue;
      const started = children.every((id) => {
        const child = byKey.get(id);
        if (!child) return false;
        const position = child.checkpoint?.sequenceNumber;
        return position !== SentinelCheckpoint.TRIM_HORIZON && position !== SentinelCheckpoint.AT_TIMESTAMP;
      });
      if (!started) continue;
      try {
        await this.ctx.releaseIfHeld(lease.leaseKey, signal);
        await this.ctx.table.deleteLease(lease.leaseKey, { signal });
        deleted.push(lease.leaseKey);
      } catch (err) {
        if (signal.aborted) throw err;
        this.ctx.logger.warn({ leaseKey: lease.leaseKey, ...errorFields(err) }, 'lease cleanup failed; retried at the next pass');
      }
    }
    if (deleted.length > 0) this.ctx.logger.info({ deleted }, 'deleted finished parent leases');
    return deleted;
  }

  /**
   * ListShards for an empty table, filtered by the initial position; the shards must cover the
   * hash space (3 tries, 1 s apart, as the KCL) — a gap mid-reshard is transient. After that the
   * listing is used as it is, with a warning.
   */
  private async listCoveringShards(signal: AbortSignal): Promise<ShardInfo[]> {
    const filter = this.shardFilter();
    let shards: ShardInfo[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      shards = await this.ctx.lister.list(filter, signal);
      // Filtered, the listed shards tile the hash space (closed ones too: the parents of a stream
      // resharded since the trim horizon); a backend that ignores the filter lists every shard,
      // and then the open ones tile it.
      const all = shards.map((s) => toHashKeyRange(s.hashKeyRange));
      const open = shards.filter((s) => s.endingSequenceNumber === undefined).map((s) => toHashKeyRange(s.hashKeyRange));
      if (rangesCoverHashSpace(all) || rangesCoverHashSpace(open)) return shards;
      if (attempt < 3) await sleep(1_000, signal, this.ctx.clock);
    }
    this.ctx.logger.warn({ shards: shards.length }, 'the listed shards do not cover the hash space; creating leases for what was listed');
    return shards;
  }

  private shardFilter(): ShardFilter {
    switch (this.ctx.initialPosition) {
      case 'LATEST':
        return { Type: 'AT_LATEST' };
      case 'TRIM_HORIZON':
        return { Type: 'AT_TRIM_HORIZON' };
      case 'AT_TIMESTAMP':
        return { Type: 'AT_TIMESTAMP', Timestamp: this.ctx.initialTimestamp ?? new Date(this.ctx.clock.now()) };
    }
  }
}
