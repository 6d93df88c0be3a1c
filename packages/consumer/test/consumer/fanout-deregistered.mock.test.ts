/**
 * A ResourceNotFoundException from SubscribeToShard names no culprit: the stream, the shard or the
 * stream consumer. Only a deleted stream or a gone shard is the shard's end; a deregistered consumer
 * on a live stream must not turn its open shards into SHARD_END (everything written later would be
 * skipped for good). Against the mock over HTTP, as fanout.mock.test.ts.
 */
import { DeleteStreamCommand, KinesisClient, ListShardsCommand, RegisterStreamConsumerCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { MemoryLogger, noopMetricsSink, systemClock } from '@kinesis-kit/core';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConsumerErrorCode,
  deregisterStreamConsumer,
  FANOUT_DEFAULTS,
  FanOutFetcher,
  FanOutConsumerNotFoundError,
  KinesisConsumer,
  MetricsScope,
  type RetrievalErrorInfo,
} from '../../src/index.js';
import { NOT_FOUND_VIEW_TTL_MS } from '../../src/retrieval/fanout-not-found.js';
import { Deliveries, FAST_LEASES, produce as produceRecords, until } from './harness.js';

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/fan';

let server: MockServer | undefined;
let kinesis: KinesisClient | undefined;
let dynamoDb: DynamoDBClient | undefined;
const consumers: KinesisConsumer[] = [];

afterEach(async () => {
  for (const c of consumers.splice(0)) await c.stop({ timeoutMillis: 2_000 });
  kinesis?.destroy();
  dynamoDb?.destroy();
  await server?.close();
  server = kinesis = dynamoDb = undefined;
});

async function setup(shardCount: number): Promise<void> {
  server = await startMockServer({ streams: [{ name: 'fan', shardCount }], subscribeCooldownMs: 100 });
  kinesis = new KinesisClient({ ...server.clientConfig(), maxAttempts: 1 });
  dynamoDb = new DynamoDBClient({ ...server.clientConfig(), maxAttempts: 1 });
}

interface Watched {
  consumer: KinesisConsumer;
  deliveries: Deliveries;
  errors: RetrievalErrorInfo[];
  shardsEnded: string[];
  logger: MemoryLogger;
}

function fanOutConsumer(): Watched {
  const deliveries = new Deliveries();
  const logger = new MemoryLogger();
  const consumer = new KinesisConsumer({
    applicationName: 'fan-app',
    streamName: 'fan',
    kinesisClient: kinesis!,
    dynamoDbClient: dynamoDb!,
    workerId: 'w1',
    initialPosition: 'TRIM_HORIZON',
    leaseManagement: FAST_LEASES,
    parentShardPollIntervalMillis: 100,
    logger,
    retrieval: { mode: 'fanout', subscribeCooldownMillis: 150, subscriptionIdleTimeoutMillis: 1_000 },
    eachBatch: ({ records }) => deliveries.add(records),
  });
  consumers.push(consumer);
  const errors: RetrievalErrorInfo[] = [];
  const shardsEnded: string[] = [];
  consumer.on('retrievalError', (e) => void errors.push(e));
  consumer.on('shardEnded', (e) => void shardsEnded.push(e.shardId));
  return { consumer, deliveries, errors, shardsEnded, logger };
}

/** Records `from..from+perKey-1` of `keys` keys into stream 'fan' (the harness's producer). */
function produce(keys: number, from: number, perKey: number): Promise<number> {
  return produceRecords({ kinesis: kinesis! }, 'fan', keys, perKey, from);
}

async function checkpoints(): Promise<Map<string, string>> {
  const items = (await dynamoDb!.send(new ScanCommand({ TableName: 'fan-app' }))).Items ?? [];
  return new Map(items.map((i) => [i.leaseKey!.S!, i.checkpoint!.S!]));
}

/** Registers the consumer again in a later second than `previousArn`'s: AWS and the mock put the creation second in the ARN, so it is a new one. */
async function registerAgain(previousArn: string): Promise<string> {
  const createdAt = Number(previousArn.slice(previousArn.lastIndexOf(':') + 1));
  await until(() => Math.floor(Date.now() / 1000) > createdAt, 'a later second than the first registration', 3_000);
  const out = await kinesis!.send(new RegisterStreamConsumerCommand({ StreamARN: STREAM_ARN, ConsumerName: 'fan-app' }));
  return out.Consumer!.ConsumerARN!;
}

const consumerMissing = (e: RetrievalErrorInfo): boolean => e.error.name === 'FanOutConsumerNotFoundError';

/**
 * A worker on a stream of `shards` shards reads 50 records; then its stream consumer is deregistered
 * and 50 more are written. Returns the worker, the first consumer ARN and the records put so far.
 */
async function deliveredThenDeregistered(shards: number): Promise<{ w: ReturnType<typeof fanOutConsumer>; firstArn: string; put: number }> {
  await setup(shards);
  const w = fanOutConsumer();
  await w.consumer.start();
  const firstArn = w.consumer.streamConsumerArn!;
  let put = await produce(10, 0, 5);
  await until(() => w.deliveries.unique === put, 'the records before the deregistration');
  await deregisterStreamConsumer(kinesis!, { consumerArn: firstArn });
  put += await produce(10, 5, 5); // written while no consumer exists
  return { w, firstArn, put };
}

describe('enhanced fan-out: ResourceNotFound from SubscribeToShard', () => {
  it('a deregistered stream consumer does not end the open shards; records written meanwhile flow once it is registered again', async () => {
    const { w, firstArn, put: putSoFar } = await deliveredThenDeregistered(2);
    let put = putSoFar;
    // Both shards keep failing with the typed, retriable error: at least twice each (so it backs off and retries).
    await until(
      () => w.shardsEnded.length > 0 || ['shardId-000000000000', 'shardId-000000000001'].every((s) => w.errors.filter((e) => e.shardId === s && consumerMissing(e)).length >= 2),
      'resubscription attempts without a consumer',
      15_000,
    );

    expect(w.shardsEnded).toEqual([]);
    expect([...(await checkpoints()).values()].filter((c) => c === 'SHARD_END')).toEqual([]);
    expect(w.consumer.status().shards.every((s) => s.state !== 'shard-ended')).toBe(true);
    expect(w.errors.filter((e) => e.kind === 'permanent')).toEqual([]);
    const missing = w.errors.find(consumerMissing)!;
    expect(missing.operation).toBe('SubscribeToShard');
    expect(missing.kind).toBe('transient');
    expect(missing.error).toBeInstanceOf(FanOutConsumerNotFoundError);
    expect(missing.error).toMatchObject({ code: ConsumerErrorCode.FANOUT_CONSUMER_NOT_FOUND, retriable: true, consumerArn: firstArn, consumerName: 'fan-app', consumerState: 'absent' });
    const warnings = w.logger.entries.filter((e) => e.level === 'warn' && e.message?.includes('stream consumer was deregistered'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(2); // once per shard, not once per retry

    // Registered again under the same name: a new ARN, which the running fetchers pick up.
    const secondArn = await registerAgain(firstArn);
    expect(secondArn).not.toBe(firstArn);
    put += await produce(10, 10, 5);
    await until(() => w.deliveries.unique === put, 'the records written while the consumer was missing, and after', 60_000);
    expect(w.deliveries.missing(10, 15)).toEqual([]);
    expect(w.deliveries.total).toBe(put); // resumed from the continuation: nothing delivered twice
    expect(w.deliveries.orderViolations()).toEqual([]);
    expect(w.shardsEnded).toEqual([]);
    expect([...(await checkpoints()).values()].filter((c) => c === 'SHARD_END')).toEqual([]);
    expect(w.logger.entries.some((e) => e.message?.includes('registered again under a new ARN') && e.fields.consumerArn === secondArn)).toBe(true);
    expect(w.consumer.streamConsumerArn).toBe(secondArn);
  });

  it('a shard closed by a split while the consumer was deregistered is read to its end before its children', async () => {
    const { w, firstArn, put: putSoFar } = await deliveredThenDeregistered(1); // the 50 written since are unread when the shard closes
    let put = putSoFar;
    const parent = (await kinesis!.send(new ListShardsCommand({ StreamName: 'fan' }))).Shards![0]!;
    const mid = (BigInt(parent.HashKeyRange!.StartingHashKey!) + BigInt(parent.HashKeyRange!.EndingHashKey!) + 1n) / 2n;
    await kinesis!.send(new SplitShardCommand({ StreamName: 'fan', ShardToSplit: parent.ShardId!, NewStartingHashKey: mid.toString() }));
    // A failed subscription looked up after the split (lookups are shared for NOT_FOUND_VIEW_TTL_MS): the shard is closed now.
    await new Promise((resolve) => setTimeout(resolve, NOT_FOUND_VIEW_TTL_MS + 100));
    const errorsAfterSplit = w.errors.filter(consumerMissing).length;
    await until(() => w.shardsEnded.length > 0 || w.errors.filter(consumerMissing).length > errorsAfterSplit, 'a failed subscription of the closed shard', 20_000);
    expect(w.shardsEnded).toEqual([]); // closed, but not read to its end: not its end yet
    expect((await checkpoints()).get(parent.ShardId!)).not.toBe('SHARD_END');

    const secondArn = await registerAgain(firstArn);
    put += await produce(10, 10, 5); // into the children
    await until(() => w.deliveries.unique === put, 'every record: the closed parent to its end, then its children', 60_000);
    expect(w.deliveries.missing(10, 15)).toEqual([]);
    expect(w.deliveries.total).toBe(put);
    expect(w.deliveries.orderViolations()).toEqual([]);
    await until(() => w.shardsEnded.includes(parent.ShardId!), 'the parent to end with its ChildShards');
    // The parent's fetcher found the new ARN; the children, started after, subscribed with it at once.
    expect(w.consumer.streamConsumerArn).toBe(secondArn);
    // (With the old ARN, a child's first subscription fails with ResourceNotFoundException before it finds the new one.)
    expect(w.errors.filter((e) => e.shardId !== parent.ShardId && (consumerMissing(e) || e.error.name === 'ResourceNotFoundException'))).toEqual([]);
  });

  it('a deleted stream still ends the shard: the fetcher queues the last batch (no children) after a permanent ResourceNotFound', async () => {
    // At the fetcher: what the shard consumer does next on a deleted stream (ListShards for children) is not retrieval's.
    await setup(1);
    const consumerArn = (await kinesis!.send(new RegisterStreamConsumerCommand({ StreamARN: STREAM_ARN, ConsumerName: 'tail' }))).Consumer!.ConsumerARN!;
    const errors: RetrievalErrorInfo[] = [];
    const logger = new MemoryLogger();
    const fetcher = new FanOutFetcher({
      kinesis: kinesis!,
      consumerArn,
      shardId: 'shardId-000000000000',
      start: { type: 'TRIM_HORIZON' },
      options: { ...FANOUT_DEFAULTS, subscribeCooldownMillis: 150, subscriptionIdleTimeoutMillis: 1_000 },
      clock: systemClock,
      random: Math.random,
      logger,
      metrics: new MetricsScope(noopMetricsSink, systemClock, {}),
      onError: (e) => void errors.push(e),
    });
    const signal = AbortSignal.timeout(20_000);
    try {
      await produce(1, 0, 3);
      while ((await fetcher.next(signal)).records.length === 0); // the records put: a subscription is reading
      await kinesis!.send(new DeleteStreamCommand({ StreamName: 'fan', EnforceConsumerDeletion: true }));
      let batch = await fetcher.next(signal);
      while (!batch.shardEnd) batch = await fetcher.next(signal);
      expect(batch.shardEnd.childShards).toEqual([]);
      expect(errors.map((e) => [e.operation, e.kind, e.error.name])).toEqual([['SubscribeToShard', 'permanent', 'ResourceNotFoundException']]);
      expect(logger.entries.some((e) => e.fields.reason === 'stream-deleted')).toBe(true);
    } finally {
      await fetcher.close();
    }
  });
});
