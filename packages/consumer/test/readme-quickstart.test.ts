import { activeResources, leakedResources } from '@kinesis-kit/core';
import { startMockServer } from '@kinesis-kit/mock';
import { expect, it } from 'vitest';
import { KinesisConsumer } from '../src/index.js';
import { KinesisProducer } from '@kinesis-kit/producer';

// The README's quick start, with records put first and assertions instead of console output.
it('README quick start runs against the mock', async () => {
  const before = activeResources();
  const server = await startMockServer({ streams: [{ name: 'orders', shardCount: 2 }] }); // Kinesis + DynamoDB
  const seen: string[] = [];
  const consumer = new KinesisConsumer({
    applicationName: 'orders-processor', // the lease table's name, as in the KCL
    streamName: 'orders',
    ...server.clientConfig(), // or { region } / { kinesisClient, dynamoDbClient }
    initialPosition: 'TRIM_HORIZON',
    eachBatch: async ({ shardId, records }) => {
      for (const r of records) seen.push(`${shardId} ${r.partitionKey} ${Buffer.from(r.data).toString()}`);
    }, // checkpointed after each batch that succeeds; a throw is retried with backoff
  });
  await consumer.start();
  const producer = new KinesisProducer({ streamName: 'orders', ...server.clientConfig() });
  const put = 50;
  await Promise.all(Array.from({ length: put }, (_, i) => producer.put({ partitionKey: `order-${i % 5}`, data: `#${i}` })));
  await producer.close();
  const deadline = Date.now() + 20_000;
  while (seen.length < put && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  // ... later, e.g. on SIGTERM:
  await consumer.stop(); // finish the batch, checkpoint, release the leases, close sockets and timers
  await server.close();

  expect(seen).toHaveLength(put);
  expect(await leakedResources(before)).toEqual({});
});
