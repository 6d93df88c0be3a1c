import { MAX_HASH_KEY, rangesCoverHashSpace } from '@kinesis-kit/aggregation';
import { ManualClock } from '@kinesis-kit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KinesisEngine, type PutEntry } from './engine.js';
import { effectiveHashKeyHex } from './hash-routing.js';
import { NO_LIMITS, resolveLimits } from './limits.js';
import type { StreamState } from './model.js';

const entry = (partitionKey: string, data = 'x', explicitHashKey?: string): PutEntry => ({
  partitionKey,
  keyBytes: Buffer.byteLength(partitionKey),
  data: Buffer.from(data),
  dataBytes: Buffer.byteLength(data),
  hashKeyHex: effectiveHashKeyHex(partitionKey, explicitHashKey),
});

function lineageIsValid(stream: StreamState): boolean {
  const byId = new Map(stream.shards.map((s) => [s.shardId, s]));
  for (const s of stream.shards) {
    const parents = [s.parentShardId, s.adjacentParentShardId].filter((p): p is string => p !== undefined).map((p) => byId.get(p)!);
    if (parents.some((p) => p.open)) return false;
    if (parents.length === 2) {
      const [a, b] = parents as [typeof s, typeof s];
      const lo = a.range.startingHashKey < b.range.startingHashKey ? a : b;
      const hi = lo === a ? b : a;
      if (lo.range.endingHashKey + 1n !== hi.range.startingHashKey) return false;
      if (lo.range.startingHashKey !== s.range.startingHashKey || hi.range.endingHashKey !== s.range.endingHashKey) return false;
    } else if (parents.length === 1) {
      const p = parents[0]!;
      if (p.range.startingHashKey > s.range.startingHashKey || p.range.endingHashKey < s.range.endingHashKey) return false;
    }
  }
  return true;
}

describe('KinesisEngine', () => {
  it('rescales to any allowed target with a valid lineage and uniform open shards', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.double({ min: 0.5, max: 2, noNaN: true }), { minLength: 1, maxLength: 4 }), (initial, factors) => {
        const engine = new KinesisEngine({ limits: { ...NO_LIMITS } });
        const stream = engine.createStream('s', initial);
        for (const f of factors) {
          const current = stream.openShards.length;
          const target = Math.min(current * 2, Math.max(Math.ceil(current / 2), Math.round(current * f)));
          engine.updateShardCount({ streamName: 's' }, target);
          expect(stream.openShards).toHaveLength(target);
          expect(rangesCoverHashSpace(stream.openShards.map((s) => s.range))).toBe(true);
        }
        expect(lineageIsValid(stream)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('routes by hash key and closes parents at a split', () => {
    const engine = new KinesisEngine({ limits: { ...NO_LIMITS } });
    const stream = engine.createStream('s', 1);
    engine.splitShard({ streamName: 's' }, 'shardId-000000000000', 1000n);
    const [low, high] = engine.putRecords(stream, [entry('a', 'x', '999'), entry('b', 'y', MAX_HASH_KEY.toString())]);
    expect(low).toMatchObject({ shard: { shardId: 'shardId-000000000001' }, counter: 1 });
    expect(high).toMatchObject({ shard: { shardId: 'shardId-000000000002' }, counter: 1 });
    expect(stream.shards[0]!.open).toBe(false);
    expect(engine.childShards(stream.shards[0]!).map((c) => c.ShardId)).toEqual(['shardId-000000000001', 'shardId-000000000002']);
  });

  it('applies write limits per shard on its clock', async () => {
    const clock = new ManualClock();
    const engine = new KinesisEngine({ clock, limits: resolveLimits({ shardWriteRecordsPerSecond: 2 }) });
    const stream = engine.createStream('s', 1);
    const codes = () => engine.putRecords(stream, [entry('a'), entry('b'), entry('c')]).map((r) => ('errorCode' in r ? r.errorCode : 'ok'));
    expect(codes()).toEqual(['ok', 'ok', 'ProvisionedThroughputExceededException']);
    await clock.advance(500);
    expect(codes()).toEqual(['ok', 'ProvisionedThroughputExceededException', 'ProvisionedThroughputExceededException']);
  });

  it('trims by retention and reads with limits', async () => {
    const clock = new ManualClock();
    const engine = new KinesisEngine({ clock, limits: { ...NO_LIMITS } });
    const stream = engine.createStream('s', 1);
    const shard = stream.shards[0]!;
    engine.putRecords(stream, [entry('a'), entry('b')]);
    await clock.advance(24 * 3_600_000);
    engine.putRecords(stream, [entry('c')]);
    expect(engine.read(stream, shard, 1, 10, 1e9)).toMatchObject({ from: 1, to: 4 });
    await clock.advance(1);
    expect(engine.read(stream, shard, 1, 10, 1e9)).toMatchObject({ from: 3, to: 4, shardEnd: false });
  });

  it('keeps transitions pending until the delay passes and cancels them on close', async () => {
    const clock = new ManualClock();
    const engine = new KinesisEngine({ clock, createStreamDelayMs: 100 });
    const stream = engine.createStream('s', 1);
    expect(stream.status).toBe('CREATING');
    await clock.advance(100);
    expect(stream.status).toBe('ACTIVE');
    engine.createStream('t', 1);
    engine.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
