/**
 * Producing with KPL aggregation against the embedded mock: put() resolves when Kinesis has the
 * record, with its shard, sequence number and position in the aggregated container.
 * Run: node --conditions=@kinesis-kit/source --import tsx examples/produce.ts
 */
import { startMockServer } from '@kinesis-kit/mock';
import { KinesisProducer, UserRecordFailedError } from '@kinesis-kit/producer';

export async function main(log: (line: string) => void = console.log): Promise<number> {
  const server = await startMockServer({ streams: [{ name: 'orders', shardCount: 4 }] });
  const producer = new KinesisProducer({ streamName: 'orders', ...server.clientConfig(), recordMaxBufferedTime: 50 });
  let acknowledged = 0;
  let kinesisRecords = 0;
  producer.on('requestCompleted', ({ entries, failedEntries }) => {
    kinesisRecords += entries - failedEntries;
  });
  try {
    // Records put before the producer knows the stream's shards go out unaggregated and skip the
    // per-shard rate limiter: wait for the shard map first.
    await producer.ready();
    const results = await Promise.allSettled(
      Array.from({ length: 5000 }, (_, i) => producer.put({ partitionKey: `customer-${i % 100}`, data: JSON.stringify({ order: i }) })),
    );
    for (const r of results) {
      if (r.status === 'fulfilled') acknowledged++;
      else if (r.reason instanceof UserRecordFailedError) log(`failed after ${r.reason.result.attempts.length + (r.reason.result.attemptsOmitted ?? 0)} attempts: ${r.reason.message}`);
    }
    const first = results[0];
    if (first?.status === 'fulfilled') log(`first record: ${first.value.shardId} ${first.value.sequenceNumber}/${first.value.subSequenceNumber}`);
    log(`sent as ${kinesisRecords} Kinesis records (KPL aggregation)`);
    log(`${acknowledged} of ${results.length} records acknowledged`);
  } finally {
    await producer.close();
    await server.close();
  }
  return acknowledged;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
