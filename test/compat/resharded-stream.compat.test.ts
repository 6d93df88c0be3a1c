import http from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { type UserRecord } from '@kinesis-kit/aggregation';
import { KinesisConsumer } from '@kinesis-kit/consumer';
import { MemoryLogger } from '@kinesis-kit/core';
import { startStandaloneDynamoDb } from '@kinesis-kit/mock';
import { KinesisProducer } from '@kinesis-kit/producer';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKinesisLocal, type KinesisLocal } from './kinesis-local.js';

// A new application on a stream split before it started, on kinesis-local: its ListShards ignores
// the AT_TRIM_HORIZON filter and lists the parent and both children (the mock and AWS list the
// parent alone; packages/consumer/test/consumer/resharding.mock.test.ts covers that side).
describe('compat: a new application on a resharded stream, kinesis-local + dynalite', () => {
  let kinesisLocal: KinesisLocal;
  let dynamo: { endpoint: string; close(): Promise<void> };
  let kinesis: KinesisClient;
  let dynamoDb: DynamoDBClient;

  beforeAll(async () => {
    [kinesisLocal, dynamo] = await Promise.all([startKinesisLocal([{ name: 'resharded', shardCount: 1 }]), startStandaloneDynamoDb()]);
    const common = { region: 'us-east-1', credentials: { accessKeyId: 'compat', secretAccessKey: 'compat' }, maxAttempts: 1 };
    kinesis = new KinesisClient({ ...common, endpoint: kinesisLocal.endpoint, requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true }) }) });
    dynamoDb = new DynamoDBClient({ ...common, endpoint: dynamo.endpoint });
  });

  afterAll(async () => {
    kinesis?.destroy();
    dynamoDb?.destroy();
    await Promise.all([kinesisLocal?.close(), dynamo?.close()]);
  });

  async function produce(from: number, count: number): Promise<void> {
    const producer = new KinesisProducer({ streamName: 'resharded', kinesisClient: kinesis, strictOrdering: true, recordMaxBufferedTime: 20 });
    await Promise.all(Array.from({ length: count }, (_, i) => producer.put({ partitionKey: `key-${(from + i) % 10}`, data: String(from + i) })));
    await producer.close();
  }

  it('reads every record from TRIM_HORIZON, in per-key order', async () => {
    await produce(0, 50);
    const [parent] = (await kinesis.send(new ListShardsCommand({ StreamName: 'resharded' }))).Shards ?? [];
    await kinesis.send(new SplitShardCommand({ StreamName: 'resharded', ShardToSplit: parent!.ShardId!, NewStartingHashKey: (2n ** 127n).toString() }));
    await produce(50, 50);

    const seen: number[] = [];
    const { promise: all, resolve } = deferred();
    const logger = new MemoryLogger();
    const consumer = new KinesisConsumer({
      applicationName: 'compat-resharded',
      streamName: 'resharded',
      kinesisClient: kinesis,
      dynamoDbClient: dynamoDb,
      initialPosition: 'TRIM_HORIZON',
      parentShardPollIntervalMillis: 200,
      leaseManagement: { failoverTimeMillis: 3000, takerInitialJitterMillis: 1 },
      retrieval: { mode: 'polling', idleTimeBetweenReadsMillis: 200 },
      logger,
      eachBatch: ({ records }) => {
        seen.push(...records.map((r: UserRecord) => Number(Buffer.from(r.data).toString())));
        if (new Set(seen).size === 100) resolve();
      },
    });
    try {
      await consumer.start();
      await all;
    } finally {
      await consumer.stop();
    }
    expect(new Set(seen).size).toBe(100);
    for (let key = 0; key < 10; key++) {
      const values = seen.filter((n) => n % 10 === key);
      expect(values, `key-${key}`).toEqual([...values].sort((a, b) => a - b));
    }
    expect(logger.entries.filter((e) => e.level === 'warn').map((e) => e.message)).toEqual([]);
  }, 60_000);
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
