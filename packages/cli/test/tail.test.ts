import { ListShardsCommand, ListStreamConsumersCommand, PutRecordsCommand, SplitShardCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { encodeAggregatedRecord } from '@kinesis-kit/aggregation';
import { activeResources, leakedResources } from '@kinesis-kit/core';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../src/aws-clients.js';
import { tailCommand } from '../src/commands/tail.js';
import { captureIo } from './io.js';

describe('kinesis-kit tail', () => {
  let server: MockServer;
  let kinesis: KinesisClient;
  let destroy: () => void;

  beforeAll(async () => {
    server = await startMockServer({ streams: [{ name: 'tailed', shardCount: 1 }] });
    // The command finds credentials the way the SDK does: here, the environment.
    process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
    const clients = createAwsClients({ ...server.clientConfig(), http1: true });
    kinesis = clients.kinesis;
    destroy = clients.destroy;
    const put = (entries: { key: string; data: Uint8Array }[]) =>
      kinesis.send(new PutRecordsCommand({ StreamName: 'tailed', Records: entries.map((e) => ({ PartitionKey: e.key, Data: e.data })) }));
    await put([{ key: 'plain', data: Buffer.from('first') }]);
    const container = encodeAggregatedRecord([
      { partitionKey: 'k1', data: Buffer.from('sub-0') },
      { partitionKey: 'k2', data: Buffer.from('sub-1') },
    ]);
    await put([{ key: 'a', data: container }]);
    // Split: the rest goes to the children, which tail must follow after the parent.
    const [parent] = (await kinesis.send(new ListShardsCommand({ StreamName: 'tailed' }))).Shards ?? [];
    await kinesis.send(new SplitShardCommand({ StreamName: 'tailed', ShardToSplit: parent!.ShardId!, NewStartingHashKey: (2n ** 127n).toString() }));
    await put([{ key: 'after-split', data: Buffer.from([0xff, 0x00, 0x01]) }]);
  });

  afterAll(async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    destroy();
    await server.close();
  });

  it('prints every record from trim-horizon, deaggregated, parents before children, then stops at --limit', async () => {
    const before = activeResources();
    const io = captureIo();
    const args = ['--stream', 'tailed', '--from', 'trim-horizon', '--limit', '4', '--endpoint', server.endpoint, '--region', 'us-east-1'];
    expect(await tailCommand(args, io)).toBe(0);
    const lines = io.stdout().trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^shardId-000000000000 \d+ plain first$/);
    expect(lines[1]).toMatch(/^shardId-000000000000 \d+\/0 k1 sub-0$/);
    expect(lines[2]).toMatch(/^shardId-000000000000 \d+\/1 k2 sub-1$/);
    expect(lines[3]).toMatch(/^shardId-00000000000[12] \d+ after-split base64:/);
    expect(await leakedResources(before)).toEqual({});
  });

  it('--fanout reads the same records over SubscribeToShard and removes its temporary stream consumer', async () => {
    const before = activeResources();
    const io = captureIo();
    const args = ['--stream', 'tailed', '--from', 'trim-horizon', '--limit', '4', '--fanout', '--endpoint', server.endpoint, '--region', 'us-east-1'];
    expect(await tailCommand(args, io)).toBe(0);
    const lines = io.stdout().trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^shardId-000000000000 \d+ plain first$/);
    expect(lines[2]).toMatch(/^shardId-000000000000 \d+\/1 k2 sub-1$/);
    expect(lines[3]).toMatch(/^shardId-00000000000[12] \d+ after-split base64:/);
    const consumers = await kinesis.send(new ListStreamConsumersCommand({ StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/tailed' }));
    expect(consumers.Consumers?.filter((c) => c.ConsumerStatus !== 'DELETING') ?? []).toEqual([]);
    expect(await leakedResources(before)).toEqual({});
  });

  it('--json prints one object per record with the sub-sequence number', async () => {
    const io = captureIo();
    await tailCommand(['--stream', 'tailed', '--from', 'trim-horizon', '--limit', '3', '--json', '--endpoint', server.endpoint, '--region', 'us-east-1'], io);
    const objects = io.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objects[2]).toMatchObject({ shardId: 'shardId-000000000000', subSequenceNumber: 1, aggregated: true, partitionKey: 'k2', data: 'sub-1', encoding: 'utf8' });
  });

  it('rejects a bad stream name and a bad --from before calling AWS', async () => {
    await expect(tailCommand(['--stream', 'bad name!'], captureIo())).rejects.toThrow('not a valid stream name');
    await expect(tailCommand(['--stream', 's', '--from', 'yesterday'], captureIo())).rejects.toThrow('--from');
  });
});
