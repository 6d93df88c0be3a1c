/**
 * Time as an injectable dependency. Lease liveness, TTLs, backoff and pacing all read the clock
 * through this interface so tests can drive time by hand instead of sleeping.
 */
export interface Clock {
  /** Wall-clock time, epoch milliseconds (for timestamps shown to people and to AWS). */
  now(): number;
  /** Monotonic milliseconds (for durations, lease liveness and deadlines). Never goes back. */
  monotonic(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. Handles any `ms`, including Infinity. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** setTimeout fires at once for delays above 2^31-1 ms, so longer delays are chained. */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer(fn: () => void, ms: number): () => void {
    if (ms === Infinity) return () => {};
    let handle: NodeJS.Timeout | undefined;
    const due = performance.now() + Math.max(0, Number.isFinite(ms) ? ms : 0);
    const arm = (): void => {
      const remaining = due - performance.now();
      if (remaining <= MAX_TIMER_DELAY_MS) {
        handle = setTimeout(fn, Math.max(0, remaining));
      } else {
        handle = setTimeout(arm, MAX_TIMER_DELAY_MS);
      }
    };
    arm();
    return () => {
      if (handle) clearTimeout(handle);
      handle = undefined;
    };
  },
});

interface ManualTimer {
  id: number;
  due: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to. `advance(ms)` runs due timers in order, letting promise
 * continuations settle between them, so code that awaits timers can be tested without sleeping.
 */
export class ManualClock implements Clock {
  private monotonicMs: number;
  private readonly wallOffset: number;
  private readonly timers = new Map<number, ManualTimer>();
  private nextId = 1;

  constructor(options: { wallStart?: number; monotonicStart?: number } = {}) {
    this.monotonicMs = options.monotonicStart ?? 1_000_000;
    this.wallOffset = (options.wallStart ?? Date.UTC(2026, 0, 1)) - this.monotonicMs;
  }

  now(): number {
    return this.monotonicMs + this.wallOffset;
  }

  monotonic(): number {
    return this.monotonicMs;
  }

  setTimer(fn: () => void, ms: number): () => void {
    if (ms === Infinity) return () => {};
    const id = this.nextId++;
    this.timers.set(id, { id, due: this.monotonicMs + Math.max(0, ms), fn });
    return () => {
      this.timers.delete(id);
    };
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.monotonicMs + ms;
    for (;;) {
      await settle();
      const next = this.earliest();
      if (!next || next.due > target) break;
      this.timers.delete(next.id);
      this.monotonicMs = Math.max(this.monotonicMs, next.due);
      next.fn();
    }
    this.monotonicMs = target;
    await settle();
  }

  /** Fires timers until none is left or `limit` have run; returns how many ran. */
  async runAll(limit = 10_000): Promise<number> {
    let ran = 0;
    for (; ran < limit; ran++) {
      await settle();
      const next = this.earliest();
      if (!next) break;
      this.timers.delete(next.id);
      this.monotonicMs = Math.max(this.monotonicMs, next.due);
      next.fn();
    }
    await settle();
    return ran;
  }

  private earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers.values()) if (!best || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    return best;
  }
}

/** Lets queued promise continuations run (several microtask turns and one macrotask turn). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
