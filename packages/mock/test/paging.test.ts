import {
  DescribeStreamCommand,
  ListShardsCommand,
  ListStreamConsumersCommand,
  ListStreamsCommand,
  RegisterStreamConsumerCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { errorOf, kinesisClient } from './helpers.js';

/**
 * AWS accepts page sizes of 1..10000 on these calls but returns at most 1000 shards from ListShards and
 * at most 100 items from DescribeStream, ListStreams and ListStreamConsumers ("If you specify a value
 * greater than N, at most N results are returned"), with the usual continuation.
 */
describe('page sizes are capped as AWS caps them', () => {
  let server: MockServer;
  let client: KinesisClient;
  beforeAll(async () => {
    const streams = [{ name: 'big', shardCount: 1500 }, ...Array.from({ length: 150 }, (_, i) => ({ name: `s${String(i).padStart(3, '0')}`, shardCount: 1 }))];
    server = await startMockServer({ streams, limits: false });
    client = kinesisClient(server, true);
  });
  afterAll(async () => {
    client.destroy();
    await server.close();
  });

  it('ListShards: at most 1000 shards per call, then NextToken', async () => {
    const first = await client.send(new ListShardsCommand({ StreamName: 'big', MaxResults: 5000 }));
    expect(first.Shards).toHaveLength(1000);
    expect(first.NextToken).toBeTruthy();
    const second = await client.send(new ListShardsCommand({ NextToken: first.NextToken, MaxResults: 10_000 }));
    expect(second.Shards).toHaveLength(500);
    expect(second.Shards![0]!.ShardId).toBe('shardId-000000001000');
    expect(second.NextToken).toBeUndefined();
  });

  it('DescribeStream: at most 100 shards per call, HasMoreShards', async () => {
    const page = await client.send(new DescribeStreamCommand({ StreamName: 'big', Limit: 1000 }));
    expect(page.StreamDescription!.Shards).toHaveLength(100);
    expect(page.StreamDescription!.HasMoreShards).toBe(true);
  });

  it('ListStreams: at most 100 streams per call, HasMoreStreams and NextToken', async () => {
    const first = await client.send(new ListStreamsCommand({ Limit: 1000 }));
    expect(first.StreamNames).toHaveLength(100);
    expect(first.StreamSummaries).toHaveLength(100);
    expect(first.HasMoreStreams).toBe(true);
    const second = await client.send(new ListStreamsCommand({ NextToken: first.NextToken, Limit: 1000 }));
    expect(second.StreamNames).toHaveLength(51);
    expect(second.HasMoreStreams).toBe(false);
  });

  it('ListStreamConsumers: at most 100 consumers per call, then NextToken', async () => {
    const StreamARN = server.engine.streamArn('s000');
    for (let i = 0; i < 101; i++) await client.send(new RegisterStreamConsumerCommand({ StreamARN, ConsumerName: `c${String(i).padStart(3, '0')}` }));
    const first = await client.send(new ListStreamConsumersCommand({ StreamARN, MaxResults: 1000 }));
    expect(first.Consumers).toHaveLength(100);
    expect(first.NextToken).toBeTruthy();
    const second = await client.send(new ListStreamConsumersCommand({ StreamARN, NextToken: first.NextToken, MaxResults: 1000 }));
    expect(second.Consumers!.map((c) => c.ConsumerName)).toEqual(['c100']);
    expect(second.NextToken).toBeUndefined();
  });

  it('still answers ValidationException above the accepted range of 10000', async () => {
    const calls: [string, () => Promise<unknown>][] = [
      ['maxResults', () => client.send(new ListShardsCommand({ StreamName: 'big', MaxResults: 10_001 }))],
      ['limit', () => client.send(new DescribeStreamCommand({ StreamName: 'big', Limit: 10_001 }))],
      ['limit', () => client.send(new ListStreamsCommand({ Limit: 10_001 }))],
      ['maxResults', () => client.send(new ListStreamConsumersCommand({ StreamARN: server.engine.streamArn('big'), MaxResults: 10_001 }))],
    ];
    for (const [member, call] of calls) {
      const err = await errorOf(call());
      expect(err.name).toBe('ValidationException');
      expect(err.message).toBe(`1 validation error detected: Value '10001' at '${member}' failed to satisfy constraint: Member must have value less than or equal to 10000`);
    }
  });
});
