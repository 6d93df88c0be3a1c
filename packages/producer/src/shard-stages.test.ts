import { ManualClock } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { LimiterStage } from './limiter-stage.js';
import { NO_ATTEMPTS, singleContainer, type Container, type PendingRecord } from './pending.js';
import { ShardAggregators } from './shard-aggregators.js';

// The per-shard entries of shards that closed go once they hold nothing (bounded memory across
// reshards), never while they still hold something.

function record(id: number, deadline: number): PendingRecord {
  return {
    id,
    partitionKey: `k${id}`,
    explicitHashKey: undefined,
    data: new Uint8Array(10),
    original: { partitionKey: `k${id}`, data: 'x' },
    bytes: 12,
    arrival: 0,
    expiration: Infinity,
    deadline,
    lastEnd: 0,
    attempts: NO_ATTEMPTS,
    attemptsOmitted: 0,
    resolve: () => undefined,
    batch: undefined,
    batchIndex: 0,
    done: false,
    prev: undefined,
    next: undefined,
  };
}

describe('ShardAggregators: aggregators of closed shards', () => {
  it('are dropped on retireClosed when empty, and once flushed when they still buffer', async () => {
    const clock = new ManualClock();
    const open = new Set(['a', 'b', 'c']);
    const emitted: string[] = [];
    const aggs = new ShardAggregators({ maxCount: 100, maxSize: 51200 }, clock, (c) => emitted.push(c.predictedShardId!), (id) => open.has(id));
    const now = clock.monotonic();
    aggs.add('a', record(1, now + 100));
    aggs.add('b', record(2, now + 100));
    aggs.add('c', record(3, now + 10));
    await clock.advance(10); // c's container leaves: c is empty, a and b still buffer
    expect(emitted).toEqual(['c']);
    open.clear();
    open.add('d');
    aggs.retireClosed();
    expect([...aggs.shardIds()].sort()).toEqual(['a', 'b']); // c went at once
    expect(aggs.holds('a')).toBe(true);
    await clock.advance(100); // a's and b's containers leave at their deadline, then they go
    expect(emitted.sort()).toEqual(['a', 'b', 'c']);
    expect(aggs.size).toBe(0);
    // An open shard's aggregator stays when empty; one made for a closed shard goes when emptied.
    aggs.add('d', record(4, clock.monotonic()));
    aggs.add('a', record(5, clock.monotonic() + 50));
    aggs.flushAll();
    expect([...aggs.shardIds()]).toEqual(['d']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('hand back their buffered records on takeRecords, in order, with nothing emitted and no timer left', async () => {
    const clock = new ManualClock();
    const emitted: PendingRecord[][] = [];
    const aggs = new ShardAggregators({ maxCount: 100, maxSize: 51200 }, clock, (c) => emitted.push(c.records), () => true);
    const buffered = [record(1, 100), record(2, 50), record(3, 100)];
    for (const r of buffered) aggs.add('a', r);
    aggs.add('b', record(4, 100));
    const taken = aggs.takeRecords('a');
    expect(taken).toHaveLength(3);
    taken.forEach((r, i) => expect(r).toBe(buffered[i]));
    expect([...aggs.shardIds()]).toEqual(['b']);
    expect(clock.pendingTimers).toBe(1); // b's; a's was cancelled
    expect(aggs.takeRecords('a')).toEqual([]);
    await clock.advance(100); // only b's container leaves at the deadline
    expect(emitted.map((records) => records.map((r) => r.id))).toEqual([[4]]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('LimiterStage: queues of closed shards', () => {
  const options = { rateLimit: 150, recordsPerSecond: 1000, bytesPerSecond: 1 << 20, largestRecordBytes: 51200, drainMs: 25 };
  const container = (id: number, shardId: string): Container => singleContainer(record(id, 0), shardId);

  it('non-strict: go once their waiting containers have passed', async () => {
    const clock = new ManualClock();
    const open = new Set(['a', 'b']);
    const passed: number[] = [];
    const stage = new LimiterStage({ ...options, strict: false }, clock, (c) => passed.push(c.records[0]!.id), () => undefined, (id) => open.has(id));
    // 1000 records empty a's record bucket: the next waits for tokens.
    for (let i = 0; i < 1001; i++) stage.enqueue('a', container(i, 'a'));
    stage.enqueue('b', container(2000, 'b'));
    expect(stage.holds('a')).toBe(true);
    open.clear();
    open.add('c');
    stage.retireClosed();
    expect([...stage.shardIds()]).toEqual(['a']); // b was idle
    await clock.advance(25);
    expect(passed).toHaveLength(1002);
    expect(stage.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('strict: a busy queue (its container in flight) stays until released', () => {
    const clock = new ManualClock();
    const open = new Set(['a']);
    const passed: number[] = [];
    const stage = new LimiterStage({ ...options, strict: true }, clock, (c) => passed.push(c.records[0]!.id), () => undefined, (id) => open.has(id));
    stage.enqueue('a', container(1, 'a'));
    stage.enqueue('a', container(2, 'a'));
    expect(passed).toEqual([1]);
    open.clear();
    stage.retireClosed();
    expect(stage.holds('a')).toBe(true);
    stage.release('a');
    expect(passed).toEqual([1, 2]);
    expect([...stage.shardIds()]).toEqual(['a']); // container 2 is in flight
    expect(stage.takeQueued('a')).toEqual([]);
    expect(stage.size).toBe(1);
    stage.release('a');
    expect(stage.size).toBe(0);
    expect(stage.holds('a')).toBe(false);
  });
});
