import { ListShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { activeResources, leakedResources } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import {
  ConsumerErrorCode,
  ConsumerStoppedError,
  DynamoDbOperationError,
  KinesisConsumer,
  ShardEndNotCheckpointedError,
  ShardListingError,
  type ConsumerErrorEvent,
  type ConsumerSettings,
  type ConsumerHandler,
} from '../../src/index.js';
import { createStream, FAST_LEASES, produce, useBackendPerTest, type Backend } from './harness.js';

/**
 * The typed errors a consumer gives when its stream or lease table cannot be used, and when a
 * processor leaves a shard end unchecked, each against the mock over real HTTP.
 */
const backends = useBackendPerTest();

function consumerOf(
  backend: Backend,
  { streamName = 'orders', handler = { eachBatch: () => {} }, ...extra }: Partial<ConsumerSettings> & { streamName?: string; handler?: ConsumerHandler } = {},
): KinesisConsumer {
  return backends.track(
    new KinesisConsumer({
      applicationName: 'errors-app',
      streamName,
      kinesisClient: backend.kinesis,
      dynamoDbClient: backend.dynamoDb,
      workerId: 'w1',
      initialPosition: 'TRIM_HORIZON',
      leaseManagement: FAST_LEASES,
      ...handler,
      ...extra,
    }),
  );
}

const rejectionOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (err: unknown) => err);

describe('consumer errors (mock)', () => {
  it('start() after stop() rejects with ConsumerStoppedError', async () => {
    const backend = await backends.start();
    await createStream(backend, 'orders', 1);
    const c = consumerOf(backend);
    await c.start();
    await c.stop();
    const error = await rejectionOf(c.start());
    expect(error).toBeInstanceOf(ConsumerStoppedError);
    expect(error).toMatchObject({ code: ConsumerErrorCode.CONSUMER_STOPPED });
  });

  it('a stream that does not exist: start() rejects with a ShardListingError that is not retriable, and releases everything', async () => {
    const before = activeResources();
    const backend = await backends.start();
    const c = consumerOf(backend, { streamName: 'missing' });
    const error = await rejectionOf(c.start());
    expect(error).toBeInstanceOf(ShardListingError);
    expect(error).toMatchObject({
      code: ConsumerErrorCode.SHARD_LISTING_FAILED,
      retriable: false,
      awsErrorCode: 'ResourceNotFoundException',
      awsCode: 'ResourceNotFoundException', // the deprecated name still answers
      cause: { name: 'ResourceNotFoundException' },
    });
    expect(c.state).toBe('stopped');
    await backend.close();
    expect(await leakedResources(before)).toEqual({});
  });

  it('stop() while start() waits on the lease table: start() rejects with ConsumerStoppedError, stop() resolves, nothing stays open', async () => {
    const before = activeResources();
    const backend = await backends.start({
      faults: { rules: [{ service: 'dynamodb', operation: 'DescribeTable', latencyMs: 2_000 }] },
    });
    await createStream(backend, 'orders', 1);
    const c = consumerOf(backend);
    const starting = rejectionOf(c.start());
    await new Promise((resolve) => setTimeout(resolve, 50)); // DescribeTable is in flight
    await c.stop();
    expect(await starting).toBeInstanceOf(ConsumerStoppedError);
    expect(c.state).toBe('stopped');
    await backend.close();
    expect(await leakedResources(before)).toEqual({});
  });

  it.each([
    // The shard sync creates the leases and takes them in its own pass, before start() is running.
    ['the shard sync', false],
    // The leases exist (a previous run made and released them): start()'s own first pass takes them, once running.
    ["start()'s first taker pass", true],
  ])('stop() during %s: start() rejects with ConsumerStoppedError, and stop() ends the shard consumers that began', async (_when, leasesExist) => {
    const before = activeResources();
    const backend = await backends.start();
    await createStream(backend, 'orders', 2);
    if (leasesExist) {
      const previous = consumerOf(backend);
      await previous.start();
      await previous.stop();
    }
    const c = consumerOf(backend);
    let stopping: Promise<void> | undefined;
    c.on('leaseAcquired', () => void (stopping ??= c.stop())); // inside the first pass, before start() resolves
    const error = await rejectionOf(c.start());
    expect(error).toBeInstanceOf(ConsumerStoppedError);
    expect(stopping).toBeDefined();
    await stopping;
    expect(c.state).toBe('stopped');
    expect(c.status().shards).toEqual([]);
    await backend.close();
    expect(await leakedResources(before)).toEqual({});
  });

  it('DynamoDB refusing the lease table: start() rejects with a DynamoDbOperationError naming the call and the table', async () => {
    const backend = await backends.start({
      faults: { rules: [{ service: 'dynamodb', operation: 'DescribeTable', errorRate: 1, errorCode: 'AccessDeniedException', statusCode: 400 }] },
    });
    await createStream(backend, 'orders', 1);
    const error = await rejectionOf(consumerOf(backend).start());
    expect(error).toBeInstanceOf(DynamoDbOperationError);
    expect(error).toMatchObject({
      code: ConsumerErrorCode.DYNAMODB_ERROR,
      operation: 'DescribeTable',
      awsErrorCode: 'AccessDeniedException',
      awsCode: 'AccessDeniedException', // the deprecated name still answers
      retriable: false,
      tableName: 'errors-app',
    });
  });

  it('autoCheckpointAtShardEnd off and a processor that does not checkpoint at shardEnded: an error event, and the children wait', async () => {
    const backend = await backends.start({ limits: false });
    await createStream(backend, 'orders', 1);
    await produce(backend, 'orders', 5, 2);
    const [parent] = (await backend.kinesis.send(new ListShardsCommand({ StreamName: 'orders' }))).Shards ?? [];
    await backend.kinesis.send(new SplitShardCommand({ StreamName: 'orders', ShardToSplit: parent!.ShardId!, NewStartingHashKey: (2n ** 127n).toString() }));
    const c = consumerOf(backend, {
      autoCheckpointAtShardEnd: false,
      parentShardPollIntervalMillis: 100,
      handler: { processorFactory: () => ({ processRecords: () => {}, shardEnded: () => {} }) },
    });
    const errorEvent: Promise<ConsumerErrorEvent> = c.next('error');
    await c.start();
    const { operation, shardId, error } = await errorEvent;
    expect({ operation, shardId }).toEqual({ operation: 'shardEnded', shardId: parent!.ShardId });
    expect(error).toBeInstanceOf(ShardEndNotCheckpointedError);
    expect(error).toMatchObject({ code: ConsumerErrorCode.SHARD_END_NOT_CHECKPOINTED, shardId: parent!.ShardId });
    expect(c.status().shards.filter((s) => s.shardId !== parent!.ShardId).every((s) => s.state === 'waiting-on-parents')).toBe(true);
  });
});
