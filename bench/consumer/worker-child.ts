/**
 * One consumer worker in its own process, so the benchmark can kill it (SIGKILL: no release, no
 * checkpoint). `worker-child.ts <endpoint> <stream> <application> <workerId>`; prints
 * `PROCESSING <shardId>` the first time it processes records of a shard, and `READY` once started.
 */
import { KinesisConsumer } from '@kinesis-kit/consumer';

const [endpoint, streamName, applicationName, workerId] = process.argv.slice(2) as [string, string, string, string];
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const seen = new Set<string>();
const consumer = new KinesisConsumer({
  applicationName,
  streamName,
  workerId,
  endpoint,
  region: 'us-east-1',
  credentials,
  initialPosition: 'TRIM_HORIZON',
  eachBatch: ({ shardId }) => {
    if (seen.has(shardId)) return;
    seen.add(shardId);
    process.stdout.write(`PROCESSING ${shardId}\n`);
  },
});
await consumer.start();
process.stdout.write('READY\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void consumer.stop().finally(() => process.exit(0));
});
