import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  SplitShardCommand,
  UpdateShardCountCommand,
  type KinesisClient,
  type Shard,
  type ShardFilterType,
} from '@aws-sdk/client-kinesis';
import { MAX_HASH_KEY, partitionKeyToHashKey, rangesCoverHashSpace } from '@kinesis-kit/aggregation';
import { ManualClock } from '@kinesis-kit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { bytes, errorOf, HANDLERS, kinesisClient, text } from './helpers.js';

const HALF = (MAX_HASH_KEY + 1n) / 2n;

async function readToEnd(client: KinesisClient, StreamName: string, ShardId: string) {
  const it = await client.send(new GetShardIteratorCommand({ StreamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
  let iterator = it.ShardIterator;
  const data: string[] = [];
  for (let i = 0; i < 20 && iterator; i++) {
    const res = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 3 }));
    data.push(...res.Records!.map((r) => text(r.Data)));
    if (!res.NextShardIterator) return { data, childShards: res.ChildShards, ended: true };
    if (res.Records!.length === 0) return { data, childShards: res.ChildShards, ended: false };
    iterator = res.NextShardIterator;
  }
  return { data, childShards: undefined, ended: false };
}

function putMany(client: KinesisClient, StreamName: string, prefix: string, n: number) {
  return client.send(
    new PutRecordsCommand({ StreamName, Records: Array.from({ length: n }, (_, i) => ({ PartitionKey: `${prefix}${i}`, Data: bytes(`${prefix}${i}`) })) }),
  );
}

describe.each(HANDLERS)('resharding over $protocol', ({ http1 }) => {
  let server: MockServer;
  let client: KinesisClient;
  beforeAll(async () => {
    server = await startMockServer({ limits: false });
    client = kinesisClient(server, http1);
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  it('splits and merges; parents end with ChildShards and consumers can follow them', async () => {
    const StreamName = 'reshard';
    await client.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
    await putMany(client, StreamName, 'before-', 5);
    await client.send(new SplitShardCommand({ StreamName, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: HALF.toString() }));
    const after = await putMany(client, StreamName, 'after-', 20);
    expect(new Set(after.Records!.map((r) => r.ShardId))).toEqual(new Set(['shardId-000000000001', 'shardId-000000000002']));
    after.Records!.forEach((r, i) => {
      expect(r.ShardId).toBe(partitionKeyToHashKey(`after-${i}`) < HALF ? 'shardId-000000000001' : 'shardId-000000000002');
    });

    const shards = (await client.send(new ListShardsCommand({ StreamName }))).Shards!;
    expect(shards.map((s) => [s.ShardId, s.ParentShardId, s.AdjacentParentShardId])).toEqual([
      ['shardId-000000000000', undefined, undefined],
      ['shardId-000000000001', 'shardId-000000000000', undefined],
      ['shardId-000000000002', 'shardId-000000000000', undefined],
    ]);
    expect(shards[0]!.SequenceNumberRange!.EndingSequenceNumber).toMatch(/^\d{56}$/);
    expect(shards[1]!.HashKeyRange).toEqual({ StartingHashKey: '0', EndingHashKey: (HALF - 1n).toString() });

    const parent = await readToEnd(client, StreamName, 'shardId-000000000000');
    expect(parent.ended).toBe(true);
    expect(parent.data).toEqual(['before-0', 'before-1', 'before-2', 'before-3', 'before-4']);
    expect(parent.childShards!.map((c) => [c.ShardId, c.ParentShards])).toEqual([
      ['shardId-000000000001', ['shardId-000000000000']],
      ['shardId-000000000002', ['shardId-000000000000']],
    ]);
    expect(parent.childShards![1]!.HashKeyRange).toEqual({ StartingHashKey: HALF.toString(), EndingHashKey: MAX_HASH_KEY.toString() });
    const children = await Promise.all(parent.childShards!.map((c) => readToEnd(client, StreamName, c.ShardId!)));
    expect(children.flatMap((c) => c.data).sort()).toEqual(after.Records!.map((_, i) => `after-${i}`).sort());
    expect(children.every((c) => !c.ended)).toBe(true);

    await client.send(new MergeShardsCommand({ StreamName, ShardToMerge: 'shardId-000000000001', AdjacentShardToMerge: 'shardId-000000000002' }));
    const merged = (await client.send(new ListShardsCommand({ StreamName, ShardFilter: { Type: 'AT_LATEST' } }))).Shards!;
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ ShardId: 'shardId-000000000003', ParentShardId: 'shardId-000000000001', AdjacentParentShardId: 'shardId-000000000002' });
    expect(merged[0]!.HashKeyRange).toEqual({ StartingHashKey: '0', EndingHashKey: MAX_HASH_KEY.toString() });
    const left = await readToEnd(client, StreamName, 'shardId-000000000001');
    expect(left.ended).toBe(true);
    expect(left.childShards!.map((c) => [c.ShardId, c.ParentShards])).toEqual([['shardId-000000000003', ['shardId-000000000001', 'shardId-000000000002']]]);
    const last = await putMany(client, StreamName, 'merged-', 3);
    expect(new Set(last.Records!.map((r) => r.ShardId))).toEqual(new Set(['shardId-000000000003']));

    const closed = await errorOf(client.send(new SplitShardCommand({ StreamName, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: '10' })));
    expect(closed.name).toBe('ResourceInUseException');
    const outside = await errorOf(client.send(new SplitShardCommand({ StreamName, ShardToSplit: 'shardId-000000000003', NewStartingHashKey: '0' })));
    expect(outside.name).toBe('InvalidArgumentException');
  });

  it('UpdateShardCount scales uniformly through splits and merges with valid lineage', async () => {
    const StreamName = 'scale';
    await client.send(new CreateStreamCommand({ StreamName, ShardCount: 2 }));
    for (const target of [4, 3, 5, 3]) {
      const res = await client.send(new UpdateShardCountCommand({ StreamName, TargetShardCount: target, ScalingType: 'UNIFORM_SCALING' }));
      expect(res.TargetShardCount).toBe(target);
      const all = (await client.send(new ListShardsCommand({ StreamName }))).Shards!;
      const open = all.filter((s) => !s.SequenceNumberRange!.EndingSequenceNumber);
      expect(open).toHaveLength(target);
      const ranges = open
        .map((s) => ({ startingHashKey: BigInt(s.HashKeyRange!.StartingHashKey!), endingHashKey: BigInt(s.HashKeyRange!.EndingHashKey!) }))
        .sort((a, b) => (a.startingHashKey < b.startingHashKey ? -1 : 1));
      expect(rangesCoverHashSpace(ranges)).toBe(true);
      const width = (MAX_HASH_KEY + 1n) / BigInt(target);
      for (const r of ranges.slice(0, -1)) expect(r.endingHashKey - r.startingHashKey + 1n).toBe(width);
      checkLineage(all);
    }
    const tooMuch = await errorOf(client.send(new UpdateShardCountCommand({ StreamName, TargetShardCount: 7, ScalingType: 'UNIFORM_SCALING' })));
    expect(tooMuch.name).toBe('LimitExceededException');
    const tooFew = await errorOf(client.send(new UpdateShardCountCommand({ StreamName, TargetShardCount: 1, ScalingType: 'UNIFORM_SCALING' })));
    expect(tooFew.name).toBe('LimitExceededException');
  });

  it('splits only strictly above StartingHashKey + 1 and strictly below EndingHashKey', async () => {
    const StreamName = 'split-bounds';
    await client.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
    const split = (key: bigint) => client.send(new SplitShardCommand({ StreamName, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: key.toString() }));
    for (const key of [0n, 1n, MAX_HASH_KEY]) {
      const err = await errorOf(split(key));
      expect(err.name, String(key)).toBe('InvalidArgumentException');
      expect(err.message).toContain('is not both greater than one plus the shard');
    }
    expect((await client.send(new ListShardsCommand({ StreamName }))).Shards).toHaveLength(1);
    await split(2n);
    const children = (await client.send(new ListShardsCommand({ StreamName, ShardFilter: { Type: 'AT_LATEST' } }))).Shards!;
    expect(children.map((s) => [s.HashKeyRange!.StartingHashKey, s.HashKeyRange!.EndingHashKey])).toEqual([
      ['0', '1'],
      ['2', MAX_HASH_KEY.toString()],
    ]);
  });

  it('refuses SplitShard, MergeShards and UpdateShardCount on an ON_DEMAND stream (ValidationException)', async () => {
    const StreamName = 'on-demand';
    await client.send(new CreateStreamCommand({ StreamName, StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
    const calls = [
      () => client.send(new SplitShardCommand({ StreamName, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: '1000' })),
      () => client.send(new MergeShardsCommand({ StreamName, ShardToMerge: 'shardId-000000000001', AdjacentShardToMerge: 'shardId-000000000002' })),
      () => client.send(new UpdateShardCountCommand({ StreamName, TargetShardCount: 8, ScalingType: 'UNIFORM_SCALING' })),
    ];
    for (const call of calls) {
      const err = await errorOf(call());
      expect(err.name).toBe('ValidationException');
      expect(err.message).toContain('only supported for the data streams with the provisioned capacity mode');
    }
    const summary = (await client.send(new DescribeStreamSummaryCommand({ StreamName }))).StreamDescriptionSummary!;
    expect([summary.StreamStatus, summary.OpenShardCount]).toEqual(['ACTIVE', 4]);
    expect((await client.send(new ListShardsCommand({ StreamName }))).Shards).toHaveLength(4);
  });
});

/** Every shard's parents exist, are closed, and together cover exactly the child's range (at most two). */
function checkLineage(shards: Shard[]): void {
  const byId = new Map(shards.map((s) => [s.ShardId!, s]));
  for (const s of shards) {
    const parents = [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => p !== undefined).map((p) => byId.get(p)!);
    if (parents.length === 0) continue;
    for (const p of parents) expect(p.SequenceNumberRange!.EndingSequenceNumber).toBeDefined();
    const lo = BigInt(s.HashKeyRange!.StartingHashKey!);
    const hi = BigInt(s.HashKeyRange!.EndingHashKey!);
    if (parents.length === 2) {
      const starts = parents.map((p) => BigInt(p.HashKeyRange!.StartingHashKey!)).sort((a, b) => (a < b ? -1 : 1));
      expect(starts[0]).toBe(lo);
      const ends = parents.map((p) => BigInt(p.HashKeyRange!.EndingHashKey!)).sort((a, b) => (a < b ? -1 : 1));
      expect(ends[1]).toBe(hi);
    } else {
      const p = parents[0]!;
      expect(BigInt(p.HashKeyRange!.StartingHashKey!) <= lo && BigInt(p.HashKeyRange!.EndingHashKey!) >= hi).toBe(true);
    }
  }
}

describe('stream status and ListShards filters on a manual clock', () => {
  it('keeps a stream UPDATING for updateStreamDelayMs and only then applies the split', async () => {
    const clock = new ManualClock();
    const server = await startMockServer({ clock, updateStreamDelayMs: 500, createStreamDelayMs: 200, limits: false });
    const client = kinesisClient(server, true);
    try {
      const StreamName = 'slow';
      await client.send(new CreateStreamCommand({ StreamName, ShardCount: 1 }));
      const status = async () => (await client.send(new DescribeStreamSummaryCommand({ StreamName }))).StreamDescriptionSummary!.StreamStatus;
      expect(await status()).toBe('CREATING');
      const notYet = await errorOf(putMany(client, StreamName, 'x', 1));
      expect(notYet.name).toBe('ResourceNotFoundException');
      await clock.advance(200);
      expect(await status()).toBe('ACTIVE');
      await client.send(new SplitShardCommand({ StreamName, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: HALF.toString() }));
      expect(await status()).toBe('UPDATING');
      const busy = await errorOf(client.send(new UpdateShardCountCommand({ StreamName, TargetShardCount: 2, ScalingType: 'UNIFORM_SCALING' })));
      expect(busy.name).toBe('ResourceInUseException');
      const during = await putMany(client, StreamName, 'during-', 3);
      expect(new Set(during.Records!.map((r) => r.ShardId))).toEqual(new Set(['shardId-000000000000']));
      await clock.advance(500);
      expect(await status()).toBe('ACTIVE');
      expect((await client.send(new ListShardsCommand({ StreamName, ShardFilter: { Type: 'AT_LATEST' } }))).Shards!.map((s) => s.ShardId)).toEqual([
        'shardId-000000000001',
        'shardId-000000000002',
      ]);
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('applies each ShardFilter type as AWS defines it', async () => {
    const clock = new ManualClock();
    const server = await startMockServer({ clock, limits: false });
    const client = kinesisClient(server, true);
    try {
      const StreamName = 'filters';
      const t0 = clock.now();
      await client.send(new CreateStreamCommand({ StreamName, ShardCount: 2 }));
      await clock.advance(60_000);
      const tSplit = clock.now();
      await client.send(new PutRecordCommand({ StreamName, PartitionKey: 'k', ExplicitHashKey: '0', Data: bytes('at the split') }));
      await client.send(new SplitShardCommand({ StreamName, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: '1000' }));
      await clock.advance(60_000);
      const ids = async (Type: ShardFilterType, extra: { ShardId?: string; Timestamp?: Date } = {}) =>
        (await client.send(new ListShardsCommand({ StreamName, ShardFilter: { Type, ...extra } }))).Shards!.map((s) => s.ShardId);
      const all = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003'];
      expect(await ids('FROM_TRIM_HORIZON')).toEqual(all);
      expect(await ids('AT_TRIM_HORIZON')).toEqual(['shardId-000000000000', 'shardId-000000000001']);
      expect(await ids('AT_LATEST')).toEqual(['shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003']);
      expect(await ids('AFTER_SHARD_ID', { ShardId: 'shardId-000000000001' })).toEqual(['shardId-000000000002', 'shardId-000000000003']);
      expect(await ids('AT_TIMESTAMP', { Timestamp: new Date(t0 + 30_000) })).toEqual(['shardId-000000000000', 'shardId-000000000001']);
      expect(await ids('AT_TIMESTAMP', { Timestamp: new Date(tSplit + 1_000) })).toEqual(['shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003']);
      // "start timestamp <= T and end timestamp >= T or still open": a shard closed exactly at T is listed.
      expect(await ids('AT_TIMESTAMP', { Timestamp: new Date(tSplit) })).toEqual(all);
      expect(await ids('AT_TIMESTAMP', { Timestamp: new Date(tSplit - 1) })).toEqual(['shardId-000000000000', 'shardId-000000000001']);
      expect(await ids('FROM_TIMESTAMP', { Timestamp: new Date(tSplit + 1_000) })).toEqual(['shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003']);
      expect(await ids('FROM_TIMESTAMP', { Timestamp: new Date(t0) })).toEqual(all);
      const missing = await errorOf(client.send(new ListShardsCommand({ StreamName, ShardFilter: { Type: 'AT_TIMESTAMP' } })));
      expect(missing.name).toBe('InvalidArgumentException');

      // With the trim horizon exactly at the split, the parent still holds the record that arrived then,
      // so AT_TRIM_HORIZON lists it like AT_TIMESTAMP at that instant.
      await clock.advance(24 * 3_600_000 - 60_000);
      expect(clock.now() - 24 * 3_600_000).toBe(tSplit);
      expect(await ids('AT_TRIM_HORIZON')).toEqual(all);
      const parent = await client.send(new GetShardIteratorCommand({ StreamName, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
      expect((await client.send(new GetRecordsCommand({ ShardIterator: parent.ShardIterator }))).Records!.map((r) => text(r.Data))).toEqual(['at the split']);

      // Closed shards disappear once they are older than the retention period.
      await clock.advance(25 * 3_600_000);
      expect(await ids('FROM_TRIM_HORIZON')).toEqual(['shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003']);
    } finally {
      client.destroy();
      await server.close();
    }
  });
});
