import {
  DecreaseStreamRetentionPeriodCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  IncreaseStreamRetentionPeriodCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { ManualClock } from '@kinesis-kit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { bytes, errorOf, kinesisClient, text } from './helpers.js';

const HOUR = 3_600_000;
const SHARD = 'shardId-000000000000';

describe('time-dependent behaviour on a manual clock', () => {
  let clock: ManualClock;
  let server: MockServer;
  let client: KinesisClient;
  beforeAll(async () => {
    clock = new ManualClock();
    server = await startMockServer({ clock, limits: false, streams: [{ name: 't', shardCount: 1 }, { name: 'paged', shardCount: 3 }] });
    client = kinesisClient(server, true);
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  const put = (values: string[]) =>
    client.send(new PutRecordsCommand({ StreamName: 't', Records: values.map((v) => ({ PartitionKey: v, Data: bytes(v) })) }));
  const readAll = async (type: 'TRIM_HORIZON' | 'AT_SEQUENCE_NUMBER' = 'TRIM_HORIZON', seq?: string) => {
    const it = await client.send(new GetShardIteratorCommand({ StreamName: 't', ShardId: SHARD, ShardIteratorType: type, StartingSequenceNumber: seq }));
    return (await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }))).Records!.map((r) => text(r.Data));
  };

  it('expires shard iterators after 5 minutes', async () => {
    const it = (await client.send(new GetShardIteratorCommand({ StreamName: 't', ShardId: SHARD, ShardIteratorType: 'LATEST' }))).ShardIterator!;
    await clock.advance(300_000);
    const ok = await client.send(new GetRecordsCommand({ ShardIterator: it }));
    await clock.advance(1);
    const expired = await errorOf(client.send(new GetRecordsCommand({ ShardIterator: it })));
    expect(expired.name).toBe('ExpiredIteratorException');
    expect(expired.message).toContain('Iterator expired');
    // A NextShardIterator is a fresh iterator.
    await client.send(new GetRecordsCommand({ ShardIterator: ok.NextShardIterator }));
  });

  it('expires ListShards NextTokens after 300 seconds', async () => {
    const page = await client.send(new ListShardsCommand({ StreamName: 'paged', MaxResults: 1 }));
    await clock.advance(300_001);
    const expired = await errorOf(client.send(new ListShardsCommand({ NextToken: page.NextToken })));
    expect(expired.name).toBe('ExpiredNextTokenException');
  });

  it('trims records older than the retention period, also after a retention change', async () => {
    const old = await put(['old-1', 'old-2']);
    await clock.advance(23 * HOUR);
    await put(['newer']);
    expect(await readAll()).toEqual(['old-1', 'old-2', 'newer']);
    await clock.advance(HOUR + 1);
    expect(await readAll()).toEqual(['newer']);
    // A sequence number that has been trimmed starts at the trim horizon.
    expect(await readAll('AT_SEQUENCE_NUMBER', old.Records![0]!.SequenceNumber)).toEqual(['newer']);

    await client.send(new IncreaseStreamRetentionPeriodCommand({ StreamName: 't', RetentionPeriodHours: 48 }));
    await clock.advance(24 * HOUR);
    expect(await readAll()).toEqual(['newer']);
    await put(['latest']);
    await client.send(new DecreaseStreamRetentionPeriodCommand({ StreamName: 't', RetentionPeriodHours: 24 }));
    expect(await readAll()).toEqual(['latest']);
  });
});
