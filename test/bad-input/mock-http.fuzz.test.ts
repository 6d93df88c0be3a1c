import http from 'node:http';
import net from 'node:net';
import { KinesisClient, ListStreamsCommand, PutRecordCommand, RegisterStreamConsumerCommand, SubscribeToShardCommand } from '@aws-sdk/client-kinesis';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const OPERATIONS = [
  'CreateStream', 'DeleteStream', 'DescribeStream', 'DescribeStreamSummary', 'ListStreams', 'ListShards', 'PutRecord', 'PutRecords',
  'GetShardIterator', 'GetRecords', 'SplitShard', 'MergeShards', 'UpdateShardCount', 'RegisterStreamConsumer', 'SubscribeToShard',
  'AddTagsToStream', 'IncreaseStreamRetentionPeriod', 'NoSuchOperation',
];
const AWS_ERRORS = new Set([
  'SerializationException', 'ValidationException', 'InvalidArgumentException', 'ResourceNotFoundException', 'ResourceInUseException',
  'LimitExceededException', 'UnknownOperationException', 'ExpiredIteratorException', 'ExpiredNextTokenException', 'ProvisionedThroughputExceededException',
]);

function post(server: MockServer, target: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(server.endpoint, { method: 'POST', agent: false, headers: { 'x-amz-target': `Kinesis_20131202.${target}`, 'content-type': 'application/x-amz-json-1.1' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// Members with the names the API uses, holding values of any JSON type.
const member = fc.constantFrom('StreamName', 'StreamARN', 'ShardCount', 'PartitionKey', 'Data', 'Records', 'ShardId', 'ShardIterator', 'ShardIteratorType', 'Limit', 'NextToken', 'ExclusiveStartShardId', 'StartingSequenceNumber', 'Timestamp', 'ConsumerName', 'Tags', 'RetentionPeriodHours', 'NewStartingHashKey', 'TargetShardCount', 'ScalingType');
const body = fc.oneof(
  fc.dictionary(member, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }).map((o) => JSON.stringify(o)),
  fc.json({ maxDepth: 2 }),
  fc.string({ maxLength: 40 }),
);

describe('bad input: the mock HTTP interface, fuzzed', () => {
  let server: MockServer;
  beforeAll(async () => {
    server = await startMockServer({ streams: [{ name: 'fuzz', shardCount: 1 }] });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers any body on any operation with 200 or an AWS-shaped 4xx, never a crash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...OPERATIONS), body, async (operation, text) => {
        const res = await post(server, operation, text);
        if (res.status === 200) return;
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        const parsed = JSON.parse(res.body) as { __type?: string; message?: string };
        expect(AWS_ERRORS.has(parsed.__type ?? '')).toBe(true);
      }),
      { numRuns: 300, seed: 20261122 },
    );
  });

  it('survives truncated requests and garbage on the socket, then serves the SDK', async () => {
    for (const garbage of ['POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"Str', '\x00\x01\x02PRI * HTTP/2.0\r\n', 'GET /' + 'a'.repeat(70_000)]) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(Number(new URL(server.endpoint).port), '127.0.0.1', () => {
          socket.end(garbage);
        });
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.resume();
      });
    }
    const client = new KinesisClient({ ...server.clientConfig(), maxAttempts: 1 });
    const out = await client.send(new ListStreamsCommand({}));
    client.destroy();
    expect(out.StreamNames).toContain('fuzz');
  });

  it('survives event streams cut by the client mid-stream (HTTP/1.1 and HTTP/2), then serves new subscriptions', async () => {
    const streamArn = 'arn:aws:kinesis:us-east-1:000000000000:stream/cut';
    const own = await startMockServer({ streams: [{ name: 'cut', shardCount: 1 }], subscribeCooldownMs: 0 });
    const client = new KinesisClient({ ...own.clientConfig(), maxAttempts: 1 });
    try {
      const { Consumer } = await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: 'cut' }));
      await client.send(new PutRecordCommand({ StreamName: 'cut', PartitionKey: 'k', Data: Buffer.from('x') }));
      const subscribe = JSON.stringify({ ConsumerARN: Consumer!.ConsumerARN, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'TRIM_HORIZON' } });
      // HTTP/1.1: read the first bytes of the event stream, then drop the socket.
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve) => {
          const req = http.request(own.endpoint, { method: 'POST', agent: false, headers: { 'x-amz-target': 'Kinesis_20131202.SubscribeToShard', 'content-type': 'application/x-amz-json-1.1' } }, (res) => {
            res.once('data', () => {
              req.destroy();
              resolve();
            });
            res.once('end', () => resolve());
          });
          req.on('error', () => resolve());
          req.end(subscribe);
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // HTTP/2: the SDK's own stream, abandoned after its first event.
      const out = await client.send(new SubscribeToShardCommand(JSON.parse(subscribe) as ConstructorParameters<typeof SubscribeToShardCommand>[0]));
      const first = out.EventStream![Symbol.asyncIterator]();
      await first.next();
      await first.return?.();
      // The server still answers, and a new subscription gets the record.
      const again = await client.send(new SubscribeToShardCommand(JSON.parse(subscribe) as ConstructorParameters<typeof SubscribeToShardCommand>[0]));
      const events = again.EventStream![Symbol.asyncIterator]();
      let records = 0;
      while (records === 0) {
        const next = await events.next();
        if (next.done) break;
        records += next.value.SubscribeToShardEvent?.Records?.length ?? 0;
      }
      await events.return?.();
      expect(records).toBe(1);
    } finally {
      client.destroy();
      await own.close();
    }
  });
});
