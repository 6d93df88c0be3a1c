import { backoffDelay } from '@kinesis-kit/core';

export interface PollPacerOptions {
  /** Shortest time between the starts of two GetRecords calls: 200 ms keeps a shard under AWS's 5 calls/s. */
  minIntervalMillis: number;
  /** Longest wait between polls while the shard is idle (the wait doubles from minIntervalMillis up to this). */
  idleMaxMillis: number;
  /** Backoff after ProvisionedThroughputExceeded: first and largest delay. */
  throttleBaseMillis: number;
  throttleMaxMillis: number;
  /** Backoff after other failures. */
  errorBaseMillis: number;
  errorMaxMillis: number;
  random: () => number;
}

/** The first idle wait when minIntervalMillis is below it. */
const MIN_IDLE_WAIT_MILLIS = 10;

/**
 * Decides when a shard's next GetRecords may start: at once (within the 5 calls/s limit) while
 * records keep coming or the shard is behind; with a growing wait while it is idle; with
 * exponential backoff after throttling or errors. Pure: the caller supplies the times.
 */
export class PollPacer {
  private lastCallStart: number | undefined;
  private idleWait = 0;
  private throttles = 0;
  private errors = 0;
  private pending = 0;

  constructor(private readonly o: PollPacerOptions) {}

  /** A call starts now. */
  callStarted(now: number): void {
    this.lastCallStart = now;
  }

  /** A call returned `records` records and the shard is `millisBehindLatest` behind. */
  succeeded(records: number, millisBehindLatest: number): void {
    this.throttles = 0;
    this.errors = 0;
    if (records > 0 || millisBehindLatest > 0) {
      this.idleWait = 0;
      this.pending = 0;
    } else {
      // From minIntervalMillis, but never from 0 (minTimeBetweenReadsMillis 0 would poll an idle shard nonstop).
      this.idleWait = this.idleWait === 0 ? Math.max(this.o.minIntervalMillis, MIN_IDLE_WAIT_MILLIS) : Math.min(this.o.idleMaxMillis, this.idleWait * 2);
      this.pending = this.idleWait;
    }
  }

  throttled(): void {
    this.throttles += 1;
    this.pending = backoffDelay(this.throttles, { baseMs: this.o.throttleBaseMillis, maxMs: this.o.throttleMaxMillis, jitter: 'equal', random: this.o.random });
  }

  failed(): void {
    this.errors += 1;
    this.pending = backoffDelay(this.errors, { baseMs: this.o.errorBaseMillis, maxMs: this.o.errorMaxMillis, jitter: 'equal', random: this.o.random });
  }

  /**
   * The backoff waited out already served another call (GetShardIterator, retried until it
   * worked): the next GetRecords need not wait it again. Counters stay until a GetRecords succeeds.
   */
  backoffServed(): void {
    this.pending = 0;
  }

  /** Consecutive throttled calls (reset by a success). */
  get consecutiveThrottles(): number {
    return this.throttles;
  }

  /** Consecutive calls failed otherwise (reset by a success). */
  get consecutiveErrors(): number {
    return this.errors;
  }

  /** Milliseconds to wait from `now` before the next call. */
  delay(now: number): number {
    const sinceStart = this.lastCallStart === undefined ? Infinity : now - this.lastCallStart;
    const rateGap = Math.max(0, this.o.minIntervalMillis - sinceStart);
    return Math.max(rateGap, this.pending);
  }
}
