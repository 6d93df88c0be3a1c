/**
 * Consuming with two workers on the embedded mock: leases shared through the (KCL) lease table,
 * eachBatch with automatic checkpoints, a handler that fails now and then (retried, never skipped),
 * and a graceful stop of one worker that hands its shards to the other at once.
 * Run: node --conditions=@kinesis-kit/source --import tsx examples/consume.ts
 */
import { KinesisConsumer, type EachBatchHandler } from '@kinesis-kit/consumer';
import { startMockServer } from '@kinesis-kit/mock';
import { KinesisProducer } from '@kinesis-kit/producer';

export async function main(log: (line: string) => void = console.log, count = 2000): Promise<number> {
  const server = await startMockServer({ streams: [{ name: 'orders', shardCount: 4 }] });
  const seen = new Set<string>();
  let batches = 0;
  const handler =
    (workerId: string): EachBatchHandler =>
    ({ shardId, records, attempt }) => {
      // A flaky downstream: every third batch fails on its first delivery; it comes again after a backoff.
      if (attempt === 0 && batches++ % 3 === 1) throw new Error(`downstream unavailable (${workerId}, ${shardId})`);
      for (const r of records) seen.add(Buffer.from(r.data).toString('utf8'));
    };
  const worker = (workerId: string): KinesisConsumer =>
    new KinesisConsumer({
      applicationName: 'orders-processor',
      streamName: 'orders',
      ...server.clientConfig(),
      workerId,
      initialPosition: 'TRIM_HORIZON',
      failurePolicy: { retryBaseDelayMillis: 50 },
      eachBatch: handler(workerId),
    });
  const a = worker('worker-a');
  const b = worker('worker-b');
  const producer = new KinesisProducer({ streamName: 'orders', ...server.clientConfig(), recordMaxBufferedTime: 20 });
  try {
    for (const w of [a, b]) {
      w.on('processingError', ({ shardId, attempt, willRetry }) => log(`${w.workerId} ${shardId}: handler failed (attempt ${attempt}), retried: ${willRetry}`));
    }
    await Promise.all([a.start(), b.start()]);
    await Promise.all(Array.from({ length: count / 2 }, (_, i) => producer.put({ partitionKey: `customer-${i % 50}`, data: `order-${i}` })));
    await a.stop(); // shutdownRequested: checkpoint, then release: worker-b takes the shards at its next pass
    log(`worker-a stopped; worker-b holds ${b.status().shards.length} shard(s) so far`);
    await Promise.all(Array.from({ length: count / 2 }, (_, i) => producer.put({ partitionKey: `customer-${i % 50}`, data: `order-${count / 2 + i}` })));
    const deadline = Date.now() + 30_000;
    while (seen.size < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    for (const s of b.status().shards) log(`${s.shardId}: ${s.state}, checkpoint ${s.checkpoint ?? '-'}`);
    log(`${seen.size} of ${count} records processed`);
  } finally {
    await producer.close();
    await Promise.all([a.stop(), b.stop()]);
    await server.close();
  }
  return seen.size;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
