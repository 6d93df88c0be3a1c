import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('bounds concurrency and serves waiters first-in first-out', async () => {
    const sem = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) =>
      sem.use(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setImmediate(r));
        order.push(i);
        running--;
      });
    await Promise.all([0, 1, 2, 3, 4].map(task));
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(sem.inUse).toBe(0);
  });

  it('an aborted waiter leaves the queue without taking a permit', async () => {
    const sem = new Semaphore(1);
    await sem.acquire();
    const controller = new AbortController();
    const waiting = sem.acquire(controller.signal);
    expect(sem.waiting).toBe(1);
    controller.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    expect(sem.waiting).toBe(0);
    sem.release();
    expect(sem.tryAcquire()).toBe(true);
  });

  it('rejects a non-positive permit count', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
