import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { activeResources, leakedResources } from '@kinesis-kit/core';
import type { UserRecord } from '@kinesis-kit/aggregation';
import { KinesisConsumer } from '@kinesis-kit/consumer';
import { startStandaloneDynamoDb } from '@kinesis-kit/mock';
import { KinesisProducer } from '@kinesis-kit/producer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKinesisLocal, type KinesisLocal } from './kinesis-local.js';

// Enhanced fan-out against an independent HTTP/2 server: kinesis-local's (http4s ember) fails with
// the SDK's HTTP/2 handler, which sends GOAWAY while the event stream is still open. The consumer's
// own client sends SubscribeToShard through FanOutRequestHandler (h2c here) and the rest over HTTP/1.1.
describe('compat: enhanced fan-out over HTTP/2 on kinesis-local', () => {
  const credentials = { accessKeyId: 'compat', secretAccessKey: 'compat' };
  let kinesisLocal: KinesisLocal;
  let dynamo: { endpoint: string; close(): Promise<void> };

  beforeAll(async () => {
    [kinesisLocal, dynamo] = await Promise.all([startKinesisLocal([{ name: 'fan', shardCount: 2 }]), startStandaloneDynamoDb()]);
  });

  afterAll(async () => {
    await Promise.all([kinesisLocal?.close(), dynamo?.close()]);
  });

  it('delivers every record in per-key order with the consumer-built client, and leaves nothing open', async () => {
    const before = activeResources();
    const delivered = new Map<string, number[]>();
    const consumer = new KinesisConsumer({
      applicationName: 'fan-compat',
      streamName: 'fan',
      endpoint: kinesisLocal.endpoint,
      dynamoDbEndpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials,
      initialPosition: 'TRIM_HORIZON',
      retrieval: { mode: 'fanout', subscribeCooldownMillis: 200 },
      eachBatch: ({ records }) => records.forEach((r) => record(delivered, r)),
    });
    await consumer.start();

    const kinesis = new KinesisClient({ endpoint: kinesisLocal.endpoint, region: 'us-east-1', credentials, maxAttempts: 3, requestHandler: new NodeHttpHandler() });
    const producer = new KinesisProducer({ streamName: 'fan', kinesisClient: kinesis, strictOrdering: true });
    const keys = 10;
    const perKey = 20;
    await producer.putMany(Array.from({ length: keys * perKey }, (_, i) => ({ partitionKey: `key-${i % keys}`, data: `key-${i % keys}:${Math.floor(i / keys)}` })));
    await producer.close();
    kinesis.destroy();

    const deadline = Date.now() + 30_000;
    while (count(delivered) < keys * perKey && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await consumer.stop();
    expect(count(delivered)).toBe(keys * perKey);
    for (const [, ns] of delivered) expect(ns).toEqual(Array.from({ length: perKey }, (_, n) => n));
    expect(await leakedResources(before)).toEqual({});
  });
});

function record(delivered: Map<string, number[]>, r: UserRecord): void {
  const [key, n] = Buffer.from(r.data).toString('utf8').split(':');
  const list = delivered.get(key!) ?? [];
  list.push(Number(n));
  delivered.set(key!, list);
}

function count(delivered: Map<string, number[]>): number {
  let n = 0;
  for (const list of delivered.values()) n += list.length;
  return n;
}
