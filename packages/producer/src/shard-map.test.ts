import { KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { ManualClock, silentLogger } from '@kinesis-kit/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { hashKeyToWords } from './hash-key-words.js';
import { ShardMap } from './shard-map.js';

const HALF = 1n << 127n;
const shard = (id: string, start: bigint, end: bigint, closed = false) => ({
  ShardId: id,
  HashKeyRange: { StartingHashKey: start.toString(), EndingHashKey: end.toString() },
  SequenceNumberRange: { StartingSequenceNumber: '1', ...(closed ? { EndingSequenceNumber: '2' } : {}) },
});

const client = new KinesisClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
const kinesis = mockClient(client);
afterEach(() => kinesis.reset());

function map(clock = new ManualClock()) {
  return new ShardMap({ client, streamName: 's', streamArn: undefined, clock, logger: silentLogger, requestTimeout: 1000 });
}

describe('ShardMap', () => {
  it('pages with NextToken alone, keeps open shards and predicts by ending hash key', async () => {
    kinesis
      .on(ListShardsCommand, { StreamName: 's' })
      .resolves({ Shards: [shard('shardId-000000000000', 0n, HALF - 1n, true), shard('shardId-000000000002', HALF, (1n << 128n) - 1n)], NextToken: 't1' })
      .on(ListShardsCommand, { NextToken: 't1' })
      .resolves({ Shards: [shard('shardId-000000000001', 0n, HALF - 1n)] });
    const m = map();
    expect(m.predict(5n)).toBeUndefined();
    expect(await m.refresh()).toBe(true);
    const calls = kinesis.commandCalls(ListShardsCommand).map((c) => c.args[0].input);
    expect(calls[0]).toMatchObject({ StreamName: 's', ShardFilter: { Type: 'AT_LATEST' }, MaxResults: 1000 });
    expect(calls[1]).toEqual({ NextToken: 't1', MaxResults: 1000 });
    expect(m.openShardIds).toEqual(['shardId-000000000001', 'shardId-000000000002']);
    expect(m.predict(0n)).toBe('shardId-000000000001');
    expect(m.predict(HALF - 1n)).toBe('shardId-000000000001');
    expect(m.predict(HALF)).toBe('shardId-000000000002');
    for (const k of [0n, 5n, HALF - 1n, HALF, (1n << 128n) - 1n]) expect(m.predictWords(hashKeyToWords(k))).toBe(m.predict(k));
    // The closed parent's range is still known.
    expect(m.rangeOf('shardId-000000000000')).toEqual({ startingHashKey: 0n, endingHashKey: HALF - 1n });
    m.close();
  });

  it('shares one refresh between concurrent callers', async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: [shard('shardId-000000000000', 0n, (1n << 128n) - 1n)] });
    const m = map();
    await Promise.all([m.refresh(), m.refresh(), m.invalidate(0)]);
    expect(kinesis.commandCalls(ListShardsCommand)).toHaveLength(1);
    m.close();
  });

  it('retries a failed refresh after 1 s, then 1.5 s (KPL backoff), on the injected clock', async () => {
    const clock = new ManualClock();
    const err = Object.assign(new Error('Rate exceeded'), { name: 'LimitExceededException', $metadata: { httpStatusCode: 400 } });
    kinesis.on(ListShardsCommand).rejectsOnce(err).rejectsOnce(err).resolves({ Shards: [shard('shardId-000000000000', 0n, (1n << 128n) - 1n)] });
    const m = map(clock);
    expect(await m.refresh()).toBe(false);
    await clock.advance(999);
    expect(kinesis.commandCalls(ListShardsCommand)).toHaveLength(1);
    await clock.advance(1);
    expect(kinesis.commandCalls(ListShardsCommand)).toHaveLength(2);
    await clock.advance(1499);
    expect(kinesis.commandCalls(ListShardsCommand)).toHaveLength(2);
    await clock.advance(1);
    expect(kinesis.commandCalls(ListShardsCommand)).toHaveLength(3);
    await m.refresh(); // shared with the retry in flight
    expect(m.ready).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    m.close();
  });

  it('close() cancels a pending retry', async () => {
    const clock = new ManualClock();
    kinesis.on(ListShardsCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }));
    const m = map(clock);
    await m.refresh();
    expect(clock.pendingTimers).toBe(1);
    m.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
