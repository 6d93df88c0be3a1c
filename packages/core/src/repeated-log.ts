import type { Clock } from './clock.js';

/** Most keys remembered (keys are error codes: few in practice). */
const MAX_KEYS = 256;

/**
 * Says a recurring message at most once per interval per key (an error code, say): the first time
 * at once, then, while it keeps happening, again once the interval has passed, with how many times
 * it happened unsaid in between (the log field `suppressed`, absent when none). An outage stays
 * readable in the log without looking over.
 */
export class RepeatedLog {
  private readonly seen = new Map<string, { saidAt: number; unsaid: number }>();

  constructor(
    private readonly clock: Clock,
    readonly intervalMillis = 10_000,
  ) {}

  /** Calls `say` now, with the fields to add to the entry, unless `key` was said within the interval; then counts it instead. */
  note(key: string, say: (fields: { suppressed?: number }) => void): void {
    const now = this.clock.monotonic();
    const entry = this.seen.get(key);
    if (entry && now - entry.saidAt < this.intervalMillis) {
      entry.unsaid += 1;
      return;
    }
    const unsaid = entry?.unsaid ?? 0;
    if (!entry && this.seen.size >= MAX_KEYS) this.forgetQuiet(now);
    this.seen.set(key, { saidAt: now, unsaid: 0 });
    say(unsaid > 0 ? { suppressed: unsaid } : {});
  }

  /** Drops the keys not said for a whole interval, else the oldest one. */
  private forgetQuiet(now: number): void {
    for (const [key, entry] of this.seen) if (now - entry.saidAt >= this.intervalMillis) this.seen.delete(key);
    if (this.seen.size >= MAX_KEYS) this.seen.delete(this.seen.keys().next().value!);
  }

  /** Keys remembered (for tests of the bound). */
  get size(): number {
    return this.seen.size;
  }
}
