/**
 * A consumer worker in its own process for the fleet test (so it can be killed with SIGKILL).
 * Args: <endpoint> <stream> <application> <workerId> <failoverTimeMillis>. Prints `READY`, then
 * per delivered batch `B <shardId> <key#n> <key#n> ...`, and `C <shardId>` once its checkpoint
 * write has settled (written or refused), and `L <shardId>` when its lease is lost. Stops gracefully
 * when stdin ends.
 */
import { KinesisConsumer } from '@kinesis-kit/consumer';

const [endpoint, streamName, applicationName, workerId, failover] = process.argv.slice(2) as [string, string, string, string, string];
const consumer = new KinesisConsumer({
  applicationName,
  streamName,
  workerId,
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  initialPosition: 'TRIM_HORIZON',
  leaseManagement: { failoverTimeMillis: Number(failover), takerInitialJitterMillis: 100 },
  parentShardPollIntervalMillis: 200,
  processorFactory: (shardId) => ({
    async processRecords({ records, checkpointer }) {
      process.stdout.write(`B ${shardId} ${records.map((r) => Buffer.from(r.data).toString('utf8')).join(' ')}\n`);
      try {
        await checkpointer.checkpoint();
      } finally {
        process.stdout.write(`C ${shardId}\n`);
      }
    },
    leaseLost() {
      process.stdout.write(`L ${shardId}\n`);
    },
    async shardEnded({ checkpointer }) {
      await checkpointer.checkpoint();
    },
    async shutdownRequested({ checkpointer }) {
      await checkpointer.checkpoint();
    },
  }),
});
await consumer.start();
process.stdout.write('READY\n');
process.stdin.resume();
process.stdin.on('end', () => {
  void consumer.stop().finally(() => process.exit(0));
});
