import { describe, expect, it } from 'vitest';
import { addAttempt, attemptCount, NO_ATTEMPTS, PendingList, RECENT_ATTEMPTS_KEPT, type PendingRecord } from './pending.js';

function record(id: number): PendingRecord {
  const never = () => undefined;
  return {
    id,
    partitionKey: `k${id}`,
    explicitHashKey: undefined,
    data: new Uint8Array(1),
    original: { partitionKey: `k${id}`, data: 'x' },
    bytes: 3,
    arrival: 0,
    expiration: 0,
    deadline: 0,
    lastEnd: 0,
    attempts: NO_ATTEMPTS,
    attemptsOmitted: 0,
    resolve: never,
    batch: undefined,
    batchIndex: 0,
    done: false,
    prev: undefined,
    next: undefined,
  };
}

describe('PendingList', () => {
  it('keeps put() order through removals anywhere (head, middle, tail) and tracks size and oldest', () => {
    const list = new PendingList();
    const rs = [1, 2, 3, 4, 5].map(record);
    for (const r of rs) list.append(r);
    expect(list.size).toBe(5);
    expect(list.oldest?.id).toBe(1);
    list.remove(rs[2]!);
    list.remove(rs[0]!);
    expect(list.toArray().map((r) => r.id)).toEqual([2, 4, 5]);
    expect(list.oldest?.id).toBe(2);
    list.remove(rs[4]!);
    list.append(record(6));
    expect(list.toArray().map((r) => r.id)).toEqual([2, 4, 6]);
    for (const r of list.toArray()) list.remove(r);
    expect(list.size).toBe(0);
    expect(list.oldest).toBeUndefined();
    expect(list.toArray()).toEqual([]);
    expect(rs[1]!.prev).toBeUndefined();
    expect(rs[1]!.next).toBeUndefined();
  });
});

describe('addAttempt', () => {
  it('never writes into the shared empty array', () => {
    const a = record(1);
    const b = record(2);
    addAttempt(a, { delay: 1, duration: 2, successful: false, errorCode: 'X' });
    addAttempt(a, { delay: 3, duration: 4, successful: true });
    expect(a.attempts.map((x) => x.successful)).toEqual([false, true]);
    expect(b.attempts).toBe(NO_ATTEMPTS);
    expect(NO_ATTEMPTS).toHaveLength(0);
    expect(Object.isFrozen(NO_ATTEMPTS)).toBe(true);
  });

  it('keeps the first attempt and the latest RECENT_ATTEMPTS_KEPT, counting the ones it drops', () => {
    const r = record(1);
    for (let i = 0; i < 1000; i++) addAttempt(r, { delay: i, duration: 0, successful: false, errorCode: 'T', errorMessage: `throttled ${i}` });
    expect(RECENT_ATTEMPTS_KEPT).toBe(32);
    expect(r.attempts).toHaveLength(1 + RECENT_ATTEMPTS_KEPT);
    expect(r.attemptsOmitted).toBe(1000 - 1 - RECENT_ATTEMPTS_KEPT);
    expect(attemptCount(r)).toBe(1000);
    // The first, then the latest in order.
    expect(r.attempts.map((a) => a.delay)).toEqual([0, ...Array.from({ length: RECENT_ATTEMPTS_KEPT }, (_, i) => 1000 - RECENT_ATTEMPTS_KEPT + i)]);
  });

  it('drops nothing up to the limit', () => {
    const r = record(1);
    for (let i = 0; i <= RECENT_ATTEMPTS_KEPT; i++) addAttempt(r, { delay: i, duration: 0, successful: false });
    expect(r.attempts.map((a) => a.delay)).toEqual(Array.from({ length: RECENT_ATTEMPTS_KEPT + 1 }, (_, i) => i));
    expect(r.attemptsOmitted).toBe(0);
  });
});
