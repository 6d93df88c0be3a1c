import { classifyAwsError, errorFields, isAbortError, RepeatedLog, Semaphore, type Clock, type Logger, type TypedEmitter } from '@kinesis-kit/core';
import { CheckpointThrottledError, DynamoDbOperationError, LeaseLostError } from '../errors.js';
import { withWriteDeadline, WriteDeadlineError } from './dynamodb-call.js';
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
  /** Not renewed within failoverTimeMillis (or its renewal still unanswered by then): dropped. */
  expired: number;
  /**
   * Not renewed by this pass: another write on it (a checkpoint, a release, an earlier renewal) was
   * still queued or in flight, and a pass never waits for one lease. Its renewal runs once that
   * write is done (a no-op if the write just renewed it); a write still unanswered when the lease
   * would expire is abandoned and the lease dropped as expired.
   */
  busy: number;
  /**
   * Its renewal was still unanswered (or waiting for a permit) when the next pass fell due: this pass
   * stopped waiting for it. It goes on (abandoned, and the lease dropped, if still unanswered when
   * the lease would expire); the next pass counts the lease as busy meanwhile.
   */
  unfinished: number;
  /** Leases held after the pass. */
  held: number;
}

type RenewOutcome = keyof Omit<RenewalResult, 'held'> | 'gone';

/**
 * The set of leases this worker holds, and every write made as their owner: renewals, checkpoint
 * writes and graceful releases, all serialised per lease through HeldLease.exclusive().
 * Nothing here ever waits on application code, and one lease never holds up another: a renewal
 * pass does not wait for a lease whose queue is busy and stops waiting when the next pass falls
 * due, and every write is abandoned when its lease would expire (so a hung request cannot hold a
 * queue longer).
 */
export class LeaseRenewer {
  private readonly held = new Map<string, HeldLease>();
  private readonly semaphore: Semaphore;
  /** Leases with a renewal started by some pass and not settled yet (possibly still waiting for a permit). */
  private readonly renewing = new Set<HeldLease>();
  /** Leases lost (not stopped) since the last pass reported LostLeases. */
  private lostSinceLastPass = 0;
  /** A failing renewal is logged once per error code per 10 s (every lease of a pass fails alike in an outage). */
  private readonly failureLog: RepeatedLog;

  constructor(private readonly o: LeaseRenewerOptions) {
    this.semaphore = new Semaphore(o.maxConcurrency);
    this.failureLog = new RepeatedLog(o.clock);
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

  /**
   * False (and the lease dropped as expired) when it is no longer held or has expired locally: a
   * peer may own it by now. Checked before each delivery, so processing stops at expiry rather than
   * at the next renewal pass (the KCL's scheduler drops expired leases from its assignments).
   */
  confirmHeld(h: HeldLease): boolean {
    return h.isHeld && !this.dropIfExpired(h, this.o.clock.monotonic());
  }

  /** Drops the lease as expired (leaseLost) when it has expired locally at `now`; true if so. */
  private dropIfExpired(h: HeldLease, now: number): boolean {
    if (!this.isLocallyExpired(h, now)) return false;
    this.markLost(h, 'expired');
    return true;
  }

  /** Drops a lease we no longer hold and tells listeners (once). */
  markLost(h: HeldLease, reason: LeaseLostReason, currentOwner?: string): void {
    if (!h.end('lost', reason)) return;
    if (reason !== 'stopped') this.lostSinceLastPass++;
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

  /**
   * One renewal pass: every held lease in parallel (bounded), each retried within the pass on
   * throttling. A lease with another write queued or in flight is not waited for (`busy`), and the
   * pass ends when the next one falls due (renewIntervalMillis) even if some renewal is still
   * unanswered (`unfinished`), so one slow or hung write never delays the other leases' renewals.
   */
  async renewAll(signal?: AbortSignal): Promise<RenewalResult> {
    const passStart = this.o.clock.monotonic();
    const leases = this.all();
    let cancelPassTimer = (): void => {};
    const passOver = new Promise<RenewOutcome>((resolve) => {
      cancelPassTimer = this.o.clock.setTimer(() => resolve('unfinished'), this.o.renewIntervalMillis);
    });
    let outcomes: RenewOutcome[];
    try {
      outcomes = await Promise.all(leases.map((h) => Promise.race([this.startRenewal(h, passStart, signal), passOver])));
    } finally {
      cancelPassTimer();
    }
    const result: RenewalResult = { renewed: 0, skipped: 0, failed: 0, lost: 0, expired: 0, busy: 0, unfinished: 0, held: this.held.size };
    for (const o of outcomes) if (o !== 'gone') result[o] += 1;
    this.o.metrics.add('CurrentLeases', result.held, 'Count', { Operation: LeaseMetricOperation.renew });
    // Every loss since the last pass, however found (renewal, checkpoint, taker, expiry before a delivery).
    this.o.metrics.add('LostLeases', this.lostSinceLastPass, 'Count', { Operation: LeaseMetricOperation.renew });
    this.lostSinceLastPass = 0;
    return result;
  }

  /**
   * Queues one lease's renewal (at most one per lease at a time). When another write on the lease
   * is queued or in flight, the pass does not wait for it: the lease counts as `busy`, and its
   * renewal runs once that write is done (a no-op if the write renewed the lease moments before; a
   * dropped lease if the write was still unanswered when the lease expired).
   */
  private startRenewal(h: HeldLease, passStart: number, signal?: AbortSignal): Promise<RenewOutcome> {
    if (!h.isHeld) return Promise.resolve('gone');
    if (this.renewing.has(h)) return Promise.resolve('busy');
    const busy = h.isBusy;
    this.renewing.add(h);
    const run = this.renewOne(h, passStart, signal)
      .catch((err: unknown): RenewOutcome => {
        if (isAbortError(err) || signal?.aborted) return 'gone';
        throw err;
      })
      .finally(() => this.renewing.delete(h));
    if (!busy) return run;
    run.catch((err: unknown) => this.o.logger.error({ leaseKey: h.leaseKey, ...errorFields(err) }, 'queued lease renewal failed'));
    return Promise.resolve('busy');
  }

  private renewOne(h: HeldLease, passStart: number, signal?: AbortSignal): Promise<RenewOutcome> {
    // The lease's queue first, then a permit: a renewal waiting behind a slow write holds no permit.
    return h.exclusive(() => this.semaphore.use(() => this.renewNow(h, passStart, signal), signal));
  }

  private async renewNow(h: HeldLease, passStart: number, signal?: AbortSignal): Promise<RenewOutcome> {
    if (!h.isHeld || signal?.aborted) return 'gone';
    const now = this.o.clock.monotonic();
    if (this.dropIfExpired(h, now)) return 'expired';
    // A checkpoint (or the take) bumped the counter moments ago; renewing again would only cost a write.
    if (now - h.lastRenewedAt < this.o.renewIntervalMillis / 2) return 'skipped';
    const expiresAt = h.lastRenewedAt + this.o.failoverTimeMillis;
    // No retry starts after the next pass is due; the request in flight is abandoned when the lease expires.
    const deadline = Math.min(passStart + this.o.renewIntervalMillis, expiresAt);
    const started = now;
    try {
      const result = await withWriteDeadline(this.o.clock, expiresAt, 'RenewLease', h.leaseKey, signal, (s) =>
        this.o.table.renewLease(h.leaseKey, this.o.workerId, h.leaseCounter, { maxAttempts: 10, deadline, signal: s }),
      );
      this.o.metrics.call('RenewLease', result.ok, started, { Operation: LeaseMetricOperation.renew });
      if (result.ok) {
        h.recordWrite(result.counter, started);
        return 'renewed';
      }
      this.markLost(h, 'conflict', result.current?.leaseOwner);
      return 'lost';
    } catch (err) {
      if (signal?.aborted || (isAbortError(err) && !(err instanceof WriteDeadlineError))) return 'gone';
      this.o.metrics.call('RenewLease', false, started, { Operation: LeaseMetricOperation.renew });
      if (err instanceof WriteDeadlineError) {
        // Still unanswered when the lease expired: peers may take it now, whether or not the write landed.
        this.o.logger.warn({ leaseKey: h.leaseKey, waitedMs: this.o.clock.monotonic() - started }, 'lease renewal unanswered until the lease expired');
        this.markLost(h, 'expired');
        return 'expired';
      }
      const c = classifyAwsError(err instanceof DynamoDbOperationError ? err.cause : err);
      const msUntilExpiry = h.lastRenewedAt + this.o.failoverTimeMillis - this.o.clock.monotonic();
      this.o.events.emit('leaseRenewalFailed', {
        leaseKey: h.leaseKey,
        shardId: h.shardId,
        error: err instanceof Error ? err : new Error(String(err)),
        errorKind: c.kind,
        msUntilExpiry,
      });
      this.failureLog.note(c.code, (repeats) =>
        this.o.logger.warn({ leaseKey: h.leaseKey, msUntilExpiry, ...errorFields(err), ...repeats }, 'lease renewal failed; still held'),
      );
      return 'failed';
    }
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
      if (this.dropIfExpired(h, started)) {
        throw new LeaseLostError(h.leaseKey, h.shardId, `lease ${h.leaseKey} expired before the checkpoint could be written`);
      }
      const expiresAt = h.lastRenewedAt + this.o.failoverTimeMillis;
      let result;
      try {
        // Abandoned (request aborted) if still unanswered when the lease would expire.
        result = await withWriteDeadline(this.o.clock, expiresAt, 'UpdateLease', h.leaseKey, signal, (s) =>
          this.o.table.updateCheckpoint(h.leaseKey, this.o.workerId, h.leaseCounter, update, { maxAttempts: 3, deadline: expiresAt, signal: s }),
        );
      } catch (err) {
        if (err instanceof WriteDeadlineError && !signal?.aborted) {
          // As for any expired lease: dropped, and the checkpoint is not confirmed. The write may
          // still land (counter-fenced: only while nobody else has taken the lease); the next
          // owner then resumes from it, else from the previous checkpoint.
          this.o.logger.warn({ leaseKey: h.leaseKey, waitedMs: this.o.clock.monotonic() - started }, 'checkpoint write unanswered until the lease expired');
          this.markLost(h, 'expired');
          throw new LeaseLostError(
            h.leaseKey,
            h.shardId,
            `lease ${h.leaseKey} expired while its checkpoint write was unanswered (it may or may not have been written)`,
            { cause: err },
          );
        }
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
   * taker pass. Returns true if the table now shows it unowned. Abandoned if still unanswered one
   * failover time after it started: by then peers take the lease whether or not it landed.
   */
  release(h: HeldLease, signal?: AbortSignal): Promise<boolean> {
    return h.exclusive(async () => {
      if (!h.isHeld) return false;
      let evicted = false;
      try {
        const deadline = this.o.clock.monotonic() + this.o.failoverTimeMillis;
        const result = await withWriteDeadline(this.o.clock, deadline, 'EvictLease', h.leaseKey, signal, (s) =>
          this.o.table.evictLease(h.leaseKey, this.o.workerId, h.leaseCounter, { maxAttempts: 3, signal: s }),
        );
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
