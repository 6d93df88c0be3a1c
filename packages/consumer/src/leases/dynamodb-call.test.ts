import { describe, expect, it } from 'vitest';
import { ManualClock } from '@kinesis-kit/core';
import { withWriteDeadline, WriteDeadlineError } from './dynamodb-call.js';

function track(p: Promise<unknown>): { done: boolean; value?: unknown; error?: unknown } {
  const state: { done: boolean; value?: unknown; error?: unknown } = { done: false };
  p.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}

describe('withWriteDeadline', () => {
  it('settles with the write when it answers in time, and leaves no timer behind', async () => {
    const clock = new ManualClock();
    const out = await withWriteDeadline(clock, clock.monotonic() + 1_000, 'Op', 'k', undefined, () => Promise.resolve(42));
    expect(out).toBe(42);
    expect(clock.pendingTimers).toBe(0);
    await expect(withWriteDeadline(clock, clock.monotonic() + 1_000, 'Op', 'k', undefined, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects at the deadline with a WriteDeadlineError and aborts the signal, even when the write ignores it', async () => {
    const clock = new ManualClock();
    let seen: AbortSignal | undefined;
    const state = track(
      withWriteDeadline(clock, clock.monotonic() + 1_000, 'UpdateLease', 'shardId-1', undefined, (signal) => {
        seen = signal;
        return new Promise(() => {}); // never answers, never looks at its signal
      }),
    );
    await clock.advance(999);
    expect(state.done).toBe(false);
    expect(seen?.aborted).toBe(false);
    await clock.advance(1);
    expect(state.error).toBeInstanceOf(WriteDeadlineError);
    expect(state.error).toMatchObject({ operation: 'UpdateLease', leaseKey: 'shardId-1', deadline: clock.monotonic() });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(state.error);
  });

  it("the caller's abort wins with its own reason; a deadline already past does not start the write", async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const state = track(withWriteDeadline(clock, clock.monotonic() + 1_000, 'Op', 'k', controller.signal, () => new Promise(() => {})));
    const reason = new Error('stopping');
    controller.abort(reason);
    await clock.advance(0);
    expect(state.error).toBe(reason);
    expect(clock.pendingTimers).toBe(0);

    let started = false;
    const late = withWriteDeadline(clock, clock.monotonic(), 'Op', 'k', undefined, () => {
      started = true;
      return Promise.resolve(1);
    });
    await expect(late).rejects.toBeInstanceOf(WriteDeadlineError);
    expect(started).toBe(false);
  });
});
