import { classifyAwsError, errorFields, isAbortError, Semaphore, type Clock, type Logger, type TypedEmitter } from '@kinesis-kit/core';
import { CheckpointThrottledError, DynamoDbOperationError, LeaseLostError } from '../errors.js';
import type { LeaseAcquisition, LeaseCoordinatorEvents, LeaseLostReason } from './events.js';
import { HeldLease } from './held-lease.js';
import type { Lease } from './lease.js';
import type { CheckpointUpdate, LeaseTable } from './lease-table.js';
import { LeaseMetricOperation, type MetricsScope } from './metrics.js';

export interface LeaseRenewerOptions {
  table: LeaseTable;
  workerId: string;
  failoverTimeMillis: number;
  renewIntervalMillis: number;
  maxConcurrency: number;
  clock: Clock;
  logger: Logger;
  metrics: MetricsScope;
  events: TypedEmitter<LeaseCoordinatorEvents>;
}

export interface RenewalResult {
  renewed: number;
  /** Written by a checkpoint less than half an interval ago: that write already renewed it. */
  skipped: number;
  /** Throttled or failed after retries; still held. */
  failed: number;
  /** A conditional renewal failed: another writer owns it now. */
  lost: number;
  /** Not renewed within failoverTimeMillis: dropped. */
  expired: number;
  /** Leases held after the pass. */
  held: number;
}

type RenewOutcome = keyof Omit<RenewalResult, 'held'> | 'gone';

/**
 * The set of leases this worker holds, and every write made as their owner: renewals, checkpoint
 * writes and graceful releases, all serialised per lease through HeldLease.exclusive().
 * Nothing here ever waits on application code.
 */
export class LeaseRenewer {
  private readonly held = new Map<string, HeldLease>();
  private readonly semaphore: Semaphore;

  constructor(private readonly o: LeaseRenewerOptions) {
    this.semaphore = new Semaphore(o.maxConcurrency);
  }

  get size(): number {
    return this.held.size;
  }

  get(leaseKey: string): HeldLease | undefined {
    return this.held.get(leaseKey);
  }

  all(): HeldLease[] {
    return [...this.held.values()];
  }

  /** Registers a lease just taken (or adopted) and announces it. */
  add(lease: Lease, acquisition: LeaseAcquisition, sentAt: number, previousOwner?: string): HeldLease {
    const existing = this.held.get(lease.leaseKey);
    if (existing?.isHeld) {
      existing.recordWrite(lease.leaseCounter, sentAt, lease);
      return existing;
    }
    const h = new HeldLease(lease, acquisition, sentAt);
    this.held.set(h.leaseKey, h);
    this.o.events.emit('leaseAcquired', {
      leaseKey: h.leaseKey,
      shardId: h.shardId,
      ...(h.streamIdentifier !== undefined ? { streamIdentifier: h.streamIdentifier } : {}),
      acquisition,
      ...(previousOwner !== undefined ? { previousOwner } : {}),
      lease: h.lease,
    });
    this.o.logger.info({ leaseKey: h.leaseKey, acquisition, previousOwner }, 'lease acquired');
    return h;
  }

  /** True when no counter-bumping write succeeded within failoverTimeMillis (peers may have taken it). */
  isLocallyExpired(h: HeldLease, now = this.o.clock.monotonic()): boolean {
    return now - h.lastRenewedAt > this.o.failoverTimeMillis;
  }

  /** Drops a lease we no longer hold and tells listeners (once). */
  markLost(h: HeldLease, reason: LeaseLostReason, currentOwner?: string): void {
    if (!h.end('lost', reason)) return;
    if (this.held.get(h.leaseKey) === h) this.held.delete(h.leaseKey);
    this.o.events.emit('leaseLost', {
      leaseKey: h.leaseKey,
      shardId: h.shardId,
      ...(h.streamIdentifier !== undefined ? { streamIdentifier: h.streamIdentifier } : {}),
      reason,
      ...(currentOwner !== undefined ? { currentOwner } : {}),
    });
    this.o.logger.warn({ leaseKey: h.leaseKey, reason, currentOwner }, 'lease lost');
  }

  /** One renewal pass: every held lease in parallel (bounded), each retried within the pass on throttling. */
  async renewAll(signal?: AbortSignal): Promise<RenewalResult> {
    const passStart = this.o.clock.monotonic();
    const leases = this.all();
    const outcomes = await Promise.all(
      leases.map((h) =>
        this.semaphore.use(() => this.renewOne(h, passStart, signal), signal).catch((err: unknown): RenewOutcome => {
          if (isAbortError(err) || signal?.aborted) return 'gone';
          throw err;
        }),
      ),
    );
    const result: RenewalResult = { renewed: 0, skipped: 0, failed: 0, lost: 0, expired: 0, held: this.held.size };
    for (const o of outcomes) if (o !== 'gone') result[o] += 1;
    this.o.metrics.add('CurrentLeases', result.held, 'Count', { Operation: LeaseMetricOperation.renew });
    this.o.metrics.add('LostLeases', result.lost + result.expired, 'Count', { Operation: LeaseMetricOperation.renew });
    return result;
  }

  private renewOne(h: HeldLease, passStart: number, signal?: AbortSignal): Promise<RenewOutcome> {
    return h.exclusive(async (): Promise<RenewOutcome> => {
      if (!h.isHeld || signal?.aborted) return 'gone';
      const now = this.o.clock.monotonic();
      if (this.isLocallyExpired(h, now)) {
        this.markLost(h, 'expired');
        return 'expired';
      }
      // A checkpoint (or the take) bumped the counter moments ago; renewing again would only cost a write.
      if (now - h.lastRenewedAt < this.o.renewIntervalMillis / 2) return 'skipped';
      const deadline = Math.min(passStart + this.o.renewIntervalMillis, h.lastRenewedAt + this.o.failoverTimeMillis);
      const started = now;
      try {
        const result = await this.o.table.renewLease(h.leaseKey, this.o.workerId, h.leaseCounter, {
          maxAttempts: 10,
          deadline,
          ...(signal ? { signal } : {}),
        });
        this.o.metrics.call('RenewLease', result.ok, started, { Operation: LeaseMetricOperation.renew });
        if (result.ok) {
          h.recordWrite(result.counter, started);
          return 'renewed';
        }
        this.markLost(h, 'conflict', result.current?.leaseOwner);
        return 'lost';
      } catch (err) {
        if (isAbortError(err) || signal?.aborted) return 'gone';
        this.o.metrics.call('RenewLease', false, started, { Operation: LeaseMetricOperation.renew });
        const c = classifyAwsError(err instanceof DynamoDbOperationError ? err.cause : err);
        const msUntilExpiry = h.lastRenewedAt + this.o.failoverTimeMillis - this.o.clock.monotonic();
        this.o.events.emit('leaseRenewalFailed', {
          leaseKey: h.leaseKey,
          shardId: h.shardId,
          error: err instanceof Error ? err : new Error(String(err)),
          errorKind: c.kind,
          msUntilExpiry,
        });
        this.o.logger.warn({ leaseKey: h.leaseKey, msUntilExpiry, ...errorFields(err) }, 'lease renewal failed; still held');
        return 'failed';
      }
    });
  }

  /**
   * Writes a checkpoint commit or prepare as the lease's owner (also a renewal). Throws
   * LeaseLostError if the lease is not held (or the write finds another owner),
   * CheckpointThrottledError if DynamoDB kept throttling, DynamoDbOperationError otherwise.
   */
  writeCheckpoint(h: HeldLease, update: CheckpointUpdate, signal?: AbortSignal): Promise<void> {
    return h.exclusive(async () => {
      if (!h.isHeld) throw new LeaseLostError(h.leaseKey, h.shardId);
      const started = this.o.clock.monotonic();
      if (this.isLocallyExpired(h, started)) {
        this.markLost(h, 'expired');
        throw new LeaseLostError(h.leaseKey, h.shardId, `lease ${h.leaseKey} expired before the checkpoint could be written`);
      }
      let result;
      try {
        result = await this.o.table.updateCheckpoint(h.leaseKey, this.o.workerId, h.leaseCounter, update, {
          maxAttempts: 3,
          deadline: h.lastRenewedAt + this.o.failoverTimeMillis,
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        if (err instanceof DynamoDbOperationError && err.kind === 'throttling') {
          throw new CheckpointThrottledError(h.leaseKey, h.shardId, { cause: err });
        }
        throw err;
      }
      if (!result.ok) {
        this.markLost(h, 'conflict', result.current?.leaseOwner);
        throw new LeaseLostError(h.leaseKey, h.shardId, `lease ${h.leaseKey} was taken by another worker before the checkpoint`);
      }
      if (update.kind === 'commit') {
        h.recordWrite(result.counter, started, { checkpoint: { ...update.checkpoint }, ownerSwitchesSinceCheckpoint: 0 });
        h.setPending(undefined, undefined);
      } else {
        h.recordWrite(result.counter, started);
        h.setPending(update.pendingCheckpoint, update.pendingCheckpointState);
      }
    });
  }

  /**
   * Gracefully gives a lease up: REMOVE leaseOwner + counter bump, so a peer takes it at its next
   * taker pass. Returns true if the table now shows it unowned.
   */
  release(h: HeldLease, signal?: AbortSignal): Promise<boolean> {
    return h.exclusive(async () => {
      if (!h.isHeld) return false;
      let evicted = false;
      try {
        const result = await this.o.table.evictLease(h.leaseKey, this.o.workerId, h.leaseCounter, {
          maxAttempts: 3,
          ...(signal ? { signal } : {}),
        });
        if (!result.ok) {
          this.markLost(h, 'conflict', result.current?.leaseOwner);
          return false;
        }
        evicted = true;
      } catch (err) {
        this.o.logger.warn({ leaseKey: h.leaseKey, ...errorFields(err) }, 'lease release failed; peers take it after failover');
      }
      if (!h.end('released')) return false;
      if (this.held.get(h.leaseKey) === h) this.held.delete(h.leaseKey);
      this.o.events.emit('leaseReleased', {
        leaseKey: h.leaseKey,
        shardId: h.shardId,
        ...(h.streamIdentifier !== undefined ? { streamIdentifier: h.streamIdentifier } : {}),
        evicted,
      });
      this.o.logger.info({ leaseKey: h.leaseKey, evicted }, 'lease released');
      return evicted;
    });
  }

  /** Forgets every held lease without touching the table (stop without release). */
  dropAll(reason: LeaseLostReason): void {
    for (const h of this.all()) this.markLost(h, reason);
  }
}
