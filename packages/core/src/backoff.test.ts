import { describe, expect, it } from 'vitest';
import { AbortError } from './abort.js';
import { backoffDelay, retry } from './backoff.js';
import { ManualClock } from './clock.js';

describe('backoffDelay', () => {
  it('grows exponentially up to the cap', () => {
    const opts = { baseMs: 100, maxMs: 1000, jitter: 'none' as const };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, opts))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  it('stays a number after thousands of attempts, with a zero base too (no 0 * Infinity)', () => {
    for (const jitter of ['none', 'equal', 'full'] as const) {
      expect(backoffDelay(5_000, { baseMs: 0, maxMs: 1000, jitter, random: () => 0.5 })).toBe(0);
      expect(backoffDelay(5_000, { baseMs: 100, maxMs: 1000, jitter: 'none' })).toBe(1000);
    }
  });
  it('applies full and equal jitter from the injected random source', () => {
    expect(backoffDelay(3, { baseMs: 100, maxMs: 10_000, random: () => 0.5 })).toBe(200);
    expect(backoffDelay(3, { baseMs: 100, maxMs: 10_000, jitter: 'equal', random: () => 0 })).toBe(200);
  });
});

describe('retry', () => {
  it('retries retriable errors and stops on a non-retriable one', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const run = retry(
      async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error('busy'), { retriable: true });
        throw Object.assign(new Error('bad'), { retriable: false });
      },
      { baseMs: 10, maxMs: 10, jitter: 'none', clock },
    );
    const settled = run.catch((err: unknown) => err);
    await clock.advance(100);
    expect(((await settled) as Error).message).toBe('bad');
    expect(calls).toBe(3);
  });

  it('stops waiting when aborted', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const run = retry(async () => Promise.reject(new Error('x')), { baseMs: 1000, maxMs: 1000, signal: controller.signal, clock });
    const settled = run.catch((err: unknown) => err);
    await clock.advance(1);
    controller.abort(new AbortError());
    expect(await settled).toBeInstanceOf(AbortError);
    expect(clock.pendingTimers).toBe(0);
  });
});
