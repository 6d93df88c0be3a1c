import { describe, expect, it } from 'vitest';
import { BatchQueue } from './batch-queue.js';

interface Item {
  name: string;
  count: number;
  bytes: number;
}

function item(name: string, count = 1, bytes = 10): Item {
  return { name, count, bytes };
}

/** Lets pending promise continuations run (no timers involved). */
async function flush(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>): { readonly settled: boolean; promise: Promise<T> } {
  const state = { settled: false, promise };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

const never = new AbortController().signal;

describe('BatchQueue', () => {
  it('hands items out in push order and keeps the record and byte counts', async () => {
    const q = new BatchQueue<Item>(100, 1_000);
    await q.push(item('a', 2, 20), never);
    await q.push(item('b', 3, 30), never);
    expect(q).toMatchObject({ size: 2, bufferedRecords: 5, bufferedBytes: 50, full: false });
    expect((await q.take(never)).name).toBe('a');
    expect(q).toMatchObject({ size: 1, bufferedRecords: 3, bufferedBytes: 30 });
    expect((await q.take(never)).name).toBe('b');
    expect(q).toMatchObject({ size: 0, bufferedRecords: 0, bufferedBytes: 0 });
  });

  it('take waits until something is pushed', async () => {
    const q = new BatchQueue<Item>(100, 1_000);
    const taken = track(q.take(never));
    await flush();
    expect(taken.settled).toBe(false);
    await q.push(item('x'), never);
    expect(await taken.promise).toEqual(item('x'));
    expect(q.size).toBe(0);
  });

  it('push waits while the queue is at or over the record bound, until a take makes room', async () => {
    const q = new BatchQueue<Item>(10, 1_000_000);
    await q.push(item('a', 6), never);
    await q.push(item('b', 6), never); // 6 < 10: accepted, now over the bound
    expect(q.full).toBe(true);
    const pushed = track(q.push(item('c', 1), never));
    await flush();
    expect(pushed.settled).toBe(false);
    expect(q.size).toBe(2);

    expect((await q.take(never)).name).toBe('a'); // 6 left: room again
    await pushed.promise;
    expect(q).toMatchObject({ size: 2, bufferedRecords: 7 });
  });

  it('push waits while the queue is at or over the byte bound', async () => {
    const q = new BatchQueue<Item>(1_000, 100);
    await q.push(item('a', 1, 100), never); // exactly at the bound
    expect(q.full).toBe(true);
    const pushed = track(q.push(item('b', 1, 1), never));
    await flush();
    expect(pushed.settled).toBe(false);
    await q.take(never);
    await pushed.promise;
    expect(q).toMatchObject({ size: 1, bufferedBytes: 1 });
  });

  it('an empty queue always accepts one item, however large', async () => {
    const q = new BatchQueue<Item>(10, 100);
    expect(q.full).toBe(false);
    await q.push(item('huge', 50_000, 10_000_000), never);
    expect(q).toMatchObject({ size: 1, bufferedRecords: 50_000, full: true });
    const next = track(q.push(item('small'), never));
    await flush();
    expect(next.settled).toBe(false);
    expect((await q.take(never)).name).toBe('huge');
    await next.promise;
    expect(q.size).toBe(1);
  });

  it('abort rejects a waiting take with the signal reason, and the queue keeps working', async () => {
    const q = new BatchQueue<Item>(10, 100);
    const controller = new AbortController();
    const taken = q.take(controller.signal);
    const reason = new Error('lease lost');
    controller.abort(reason);
    await expect(taken).rejects.toBe(reason);
    // The aborted taker is gone: a push is kept for the next take.
    await q.push(item('a'), never);
    expect(q.size).toBe(1);
    expect((await q.take(never)).name).toBe('a');
  });

  it('abort rejects a waiting push without adding its item', async () => {
    const q = new BatchQueue<Item>(1, 100);
    await q.push(item('a'), never);
    const controller = new AbortController();
    const pushed = q.push(item('b'), controller.signal);
    controller.abort();
    await expect(pushed).rejects.toMatchObject({ name: 'AbortError' });
    expect(q).toMatchObject({ size: 1, bufferedRecords: 1 });
    expect((await q.take(never)).name).toBe('a');
    expect(q.size).toBe(0);
  });

  it('an already aborted signal rejects a take at once', async () => {
    const q = new BatchQueue<Item>(10, 100);
    const controller = new AbortController();
    const reason = new Error('stopped');
    controller.abort(reason);
    await expect(q.take(controller.signal)).rejects.toBe(reason);
  });

  it('clear() drops the buffered items and wakes a waiting pusher', async () => {
    const q = new BatchQueue<Item>(2, 1_000);
    await q.push(item('a', 1, 10), never);
    await q.push(item('b', 1, 10), never);
    const pushed = track(q.push(item('c', 1, 7), never));
    await flush();
    expect(pushed.settled).toBe(false);

    q.clear();
    await pushed.promise;
    expect(q).toMatchObject({ size: 1, bufferedRecords: 1, bufferedBytes: 7 });
    expect((await q.take(never)).name).toBe('c');
  });
});
