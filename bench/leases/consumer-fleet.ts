/**
 * The same start-up as the coordinator rows, through KinesisConsumer: its start() adds a shard
 * sync and taker passes of its own, which the bare coordinators do not have. Real workers on the
 * in-process mock (Kinesis + DynamoDB), a stream with one shard per lease, wall time.
 */
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { KinesisConsumer } from '@kinesis-kit/consumer';
import { startMockServer } from '@kinesis-kit/mock';
import { waitFor } from '../lib.js';

export interface FleetStart {
  /** Wall seconds from the first worker's start() until every shard is held and the split is even. */
  seconds: number;
  steals: number;
}

const TIMEOUT_MS = 120_000;
const POLL_MS = 20;

export async function runConsumerFleet(shards: number, offsets: readonly number[]): Promise<FleetStart> {
  const server = await startMockServer({ limits: false });
  const config = { ...server.clientConfig(), maxAttempts: 1 };
  const kinesis = new KinesisClient({ ...config, requestHandler: new NodeHttpHandler() });
  const dynamoDb = new DynamoDBClient({ ...config, requestHandler: new NodeHttpHandler() });
  const workers: KinesisConsumer[] = [];
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: 'fleet', ShardCount: shards }));
    const active = async () => (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'fleet' }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
    await waitFor(active, TIMEOUT_MS, 'the stream', POLL_MS);
    let steals = 0;
    const t0 = performance.now();
    await Promise.all(
      offsets.map(async (offset, i) => {
        await new Promise((resolve) => setTimeout(resolve, offset));
        const worker = new KinesisConsumer({
          applicationName: 'fleet-app',
          streamName: 'fleet',
          kinesisClient: kinesis,
          dynamoDbClient: dynamoDb,
          workerId: `worker-${i}`,
          initialPosition: 'TRIM_HORIZON',
          eachBatch: () => {},
        });
        worker.on('leaseAcquired', (e) => void (e.acquisition === 'stolen' && (steals += 1)));
        workers.push(worker);
        await worker.start();
      }),
    );
    const held = (): number[] => workers.map((w) => w.status().shards.length);
    const balanced = (): boolean => {
      const counts = held();
      return counts.reduce((a, b) => a + b, 0) === shards && Math.max(...counts) - Math.min(...counts) <= 1;
    };
    await waitFor(balanced, TIMEOUT_MS, 'a balanced split', POLL_MS);
    return { seconds: (performance.now() - t0) / 1000, steals };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    kinesis.destroy();
    dynamoDb.destroy();
    await server.close();
  }
}
