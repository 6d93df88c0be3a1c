import type { Clock } from '@kinesis-kit/core';
import type { PendingRecord } from './pending.js';

/**
 * Strict ordering: records held, in order, until they can be routed (no shard map yet, or a
 * reshard being handled). They still expire at recordTtl, as they would in the rate limiter, so a
 * shard map that never comes (ListShards failing) cannot hold put() and close() forever. One
 * timer, for the earliest expiration; sweeps run at most every `sweepMs` (each walks the list).
 */
export class UnroutedRecords {
  private records: PendingRecord[] = [];
  private cancelTimer: (() => void) | undefined;
  private timerDue = Infinity;
  private lastSweep = -Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly sweepMs: number,
    /** Records past their expiration, taken out of the list (none settled yet). */
    private readonly expired: (records: PendingRecord[], now: number) => void,
  ) {}

  get size(): number {
    return this.records.length;
  }

  push(record: PendingRecord): void {
    this.records.push(record);
    this.arm(record.expiration);
  }

  /** Removes and returns every held record, in order. */
  take(): PendingRecord[] {
    const records = this.records;
    this.records = [];
    this.disarm();
    return records;
  }

  close(): void {
    this.take();
  }

  private sweep(): void {
    const now = this.clock.monotonic();
    this.lastSweep = now;
    const live: PendingRecord[] = [];
    const expired: PendingRecord[] = [];
    for (const r of this.records) {
      if (r.done) continue;
      if (r.expiration <= now) expired.push(r);
      else live.push(r);
    }
    // Settling the expired ones can route new records here: the list is consistent before that.
    this.records = live;
    if (expired.length > 0) this.expired(expired, now);
    let earliest = Infinity;
    for (const r of this.records) if (r.expiration < earliest) earliest = r.expiration;
    this.arm(earliest);
  }

  private arm(expiration: number): void {
    const due = Math.max(expiration, this.lastSweep + this.sweepMs);
    if (due >= this.timerDue) return;
    this.disarm();
    this.timerDue = due;
    this.cancelTimer = this.clock.setTimer(() => {
      this.cancelTimer = undefined;
      this.timerDue = Infinity;
      this.sweep();
    }, due - this.clock.monotonic());
  }

  private disarm(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerDue = Infinity;
  }
}
