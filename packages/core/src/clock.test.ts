import { describe, expect, it } from 'vitest';
import { sleep } from './abort.js';
import { ManualClock, systemClock } from './clock.js';

describe('ManualClock', () => {
  it('fires timers in due order only when advanced', async () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimer(() => fired.push('b'), 200);
    clock.setTimer(() => fired.push('a'), 100);
    const cancel = clock.setTimer(() => fired.push('never'), 150);
    cancel();
    await clock.advance(99);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual(['a']);
    await clock.advance(1000);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('lets awaited sleeps chain within one advance', async () => {
    const clock = new ManualClock();
    const start = clock.monotonic();
    const times: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(10, undefined, clock);
        times.push(clock.monotonic() - start);
      }
    })();
    await clock.advance(30);
    await loop;
    expect(times).toEqual([10, 20, 30]);
  });

  it('never fires an Infinity timer, and the wall clock moves with the monotonic one', async () => {
    const clock = new ManualClock({ wallStart: 1_000 });
    let fired = false;
    clock.setTimer(() => (fired = true), Infinity);
    await clock.advance(5_000);
    expect(fired).toBe(false);
    expect(clock.now()).toBe(6_000);
  });
});

describe('systemClock', () => {
  it('cancels a timer longer than setTimeout can hold without firing it', () => {
    let fired = false;
    const cancel = systemClock.setTimer(() => (fired = true), 2 ** 40);
    cancel();
    expect(fired).toBe(false);
  });
});
