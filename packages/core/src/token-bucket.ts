/**
 * A token bucket measured on an injected monotonic clock: refills at `ratePerSecond` up to
 * `capacity`. `tryTake` is all-or-nothing; `takeDebt` may drive the balance negative, which is
 * how one large read (GetRecords up to 10 MiB) blocks the shard's reads for the next seconds,
 * as Kinesis does.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private ratePerSecond: number,
    private capacity: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  /** True when the bucket never runs dry (rate or capacity Infinity). */
  get unlimited(): boolean {
    return this.ratePerSecond === Infinity || this.capacity === Infinity;
  }

  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** Takes `n` tokens if that many are available. */
  tryTake(n: number, now: number): boolean {
    if (this.unlimited) return true;
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Takes `n` tokens unconditionally (the balance may go negative). */
  takeDebt(n: number, now: number): void {
    if (this.unlimited) return;
    this.refill(now);
    this.tokens -= n;
  }

  /** Milliseconds until `n` tokens are available (0 if they are now). */
  msUntil(n: number, now: number): number {
    if (this.unlimited) return 0;
    this.refill(now);
    const missing = Math.min(n, this.capacity) - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.ratePerSecond);
  }

  /** Changes rate and capacity, keeping the current balance (capped to the new capacity). */
  reconfigure(ratePerSecond: number, capacity: number, now: number): void {
    this.refill(now);
    this.ratePerSecond = ratePerSecond;
    this.capacity = capacity;
    this.tokens = Math.min(this.tokens === Infinity ? capacity : this.tokens, capacity);
  }

  private refill(now: number): void {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
      this.last = now;
    }
  }
}
