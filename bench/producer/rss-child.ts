/**
 * Peak RSS of a producer with maxOutstandingRecords = 100,000 fed twice as fast as the stream
 * takes records (fresh process). Args: <endpoint> <seconds> <feed records/s>. Prints one JSON line.
 */
import { KinesisProducer } from '@kinesis-kit/producer';
import { benchClient, recordData, recordKey } from './workload.js';

const [endpoint, seconds, feedRate] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const client = benchClient(endpoint);
const producer = new KinesisProducer({ streamName: 'bench', kinesisClient: client, maxOutstandingRecords: 100_000 });
await producer.ready();
let peakUsage = process.memoryUsage();
let peak = peakUsage.rss;
let maxOutstanding = 0;
let acked = 0;
let failed = 0;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  if (usage.rss > peak) {
    peak = usage.rss;
    peakUsage = usage;
  }
  maxOutstanding = Math.max(maxOutstanding, producer.outstandingRecords);
}, 20);
const start = performance.now();
let sent = 0;
while (performance.now() - start < seconds * 1000) {
  const due = Math.floor(((performance.now() - start) / 1000) * feedRate);
  while (sent < due) {
    if (!producer.hasCapacity) await producer.waitForCapacity();
    producer.put({ partitionKey: recordKey(sent), data: recordData(sent) }).then(
      () => acked++,
      () => failed++,
    );
    sent++;
  }
  await new Promise((r) => setTimeout(r, 5));
}
clearInterval(sampler);
const ac = new AbortController();
setTimeout(() => ac.abort(), 60_000).unref();
await producer.close({ signal: ac.signal });
client.destroy();
process.stdout.write(`${JSON.stringify({ peakRss: peak, atPeak: peakUsage, maxOutstanding, sent, acked, failed })}\n`);
