import { sleep } from './abort.js';
import { systemClock, type Clock } from './clock.js';

export interface BackoffOptions {
  /** First delay, ms. */
  baseMs: number;
  /** Upper bound for any delay, ms. */
  maxMs: number;
  /** Growth per attempt (default 2). */
  multiplier?: number;
  /** 'full': uniform in [0, d]; 'equal': d/2 + uniform in [0, d/2]; 'none': d. Default 'full'. */
  jitter?: 'full' | 'equal' | 'none';
  /** Source of randomness in [0, 1); injectable for deterministic tests. */
  random?: () => number;
}

/** Delay before retry number `attempt` (1-based): exponential, capped, jittered. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const multiplier = options.multiplier ?? 2;
  const growth = Math.pow(multiplier, Math.max(0, attempt - 1));
  // After ~1000 attempts growth is Infinity, and 0 * Infinity (baseMs 0) would be NaN.
  const exp = options.baseMs === 0 ? 0 : Math.min(options.maxMs, options.baseMs * growth);
  const random = options.random ?? Math.random;
  switch (options.jitter ?? 'full') {
    case 'none':
      return exp;
    case 'equal':
      return exp / 2 + random() * (exp / 2);
    case 'full':
      return random() * exp;
  }
}

export interface RetryOptions extends BackoffOptions {
  /** Total attempts including the first (default Infinity: until aborted or not retriable). */
  maxAttempts?: number;
  /** Decides whether an error is worth another attempt (default: `isRetriable`). */
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to log or count. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  clock?: Clock;
}

/** Runs `fn` until it succeeds, the error is not retriable, attempts run out, or `signal` aborts. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const maxAttempts = options.maxAttempts ?? Infinity;
  const shouldRetry = options.shouldRetry ?? ((err: unknown) => isRetriable(err));
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= maxAttempts || !shouldRetry(err, attempt) || options.signal?.aborted) throw err;
      const delay = backoffDelay(attempt, options);
      options.onRetry?.(err, attempt, delay);
      await sleep(delay, options.signal, options.clock ?? systemClock);
    }
  }
}

/** Reads a `retriable` flag from our own errors; unknown errors count as retriable. */
export function isRetriable(err: unknown): boolean {
  const flag = (err as { retriable?: unknown } | null)?.retriable;
  return typeof flag === 'boolean' ? flag : true;
}
