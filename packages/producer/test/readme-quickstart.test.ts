import { startMockServer } from '@kinesis-kit/mock';
import { expect, it } from 'vitest';
import { KinesisProducer } from '../src/index.js';

// The README's quick start, verbatim apart from the assertions.
it('README quick start runs against the mock', async () => {
  const server = await startMockServer({ streams: [{ name: 'orders', shardCount: 2 }] });
  const producer = new KinesisProducer({ streamName: 'orders', ...server.clientConfig() });

  const result = await producer.put({ partitionKey: 'order-42', data: JSON.stringify({ total: 9.5 }) });
  console.log(result.shardId, result.sequenceNumber, result.subSequenceNumber);

  const many = await producer.putMany(Array.from({ length: 1000 }, (_, i) => ({ partitionKey: `order-${i}`, data: `#${i}` })));
  console.log(many.length, 'written'); // one promise for many records: far less CPU per record than put()
  await producer.close(); // flushes, then releases every timer and socket
  await server.close();

  expect(result.successful).toBe(true);
  expect(many.every((r) => r.successful)).toBe(true);
  expect(producer.outstandingRecords).toBe(0);
});
