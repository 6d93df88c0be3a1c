import { activeResources, leakedResources } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { ListShardsCommand, PutRecordCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { KinesisConsumer, LeaseTable, type ConsumerHandler, type ConsumerSettings, type KinesisConsumerOptions } from '../../src/index.js';
import { createStream, FAST_LEASES, startBackend, useBackendPerTest, until, type Backend } from './harness.js';

const backends = useBackendPerTest();

async function putRecords(b: Backend, stream: string, count: number): Promise<string[]> {
  const sequenceNumbers: string[] = [];
  for (let i = 0; i < count; i++) {
    const out = await b.kinesis.send(new PutRecordCommand({ StreamName: stream, PartitionKey: 'k', Data: Buffer.from(`r${i}`) }));
    sequenceNumbers.push(out.SequenceNumber!);
  }
  return sequenceNumbers;
}

function consumer(b: Backend, workerId: string, options: Partial<ConsumerSettings> & ConsumerHandler): KinesisConsumer {
  return backends.track(
    new KinesisConsumer({
      applicationName: 'app',
      streamName: 's',
      kinesisClient: b.kinesis,
      dynamoDbClient: b.dynamoDb,
      workerId,
      initialPosition: 'TRIM_HORIZON',
      leaseManagement: FAST_LEASES,
      parentShardPollIntervalMillis: 100,
      ...options,
    }),
  );
}

const text = (data: Uint8Array): string => Buffer.from(data).toString();

describe('stop() while a batch is failing (mock)', () => {
  // The retry waits 60 s, so stop() always lands in the backoff after the first failure.
  const slowRetry = { failurePolicy: { retryBaseDelayMillis: 60_000, retryMaxDelayMillis: 60_000 } };

  it.each([
    { helper: 'eachBatch', failsAt: 0, redelivered: ['r0', 'r1', 'r2', 'r3', 'r4'] },
    { helper: 'eachRecord', failsAt: 2, redelivered: ['r2', 'r3', 'r4'] },
  ])('$helper: the checkpoint stays before the failed records, and the next worker gets them again', async ({ helper, failsAt, redelivered }) => {
    const b = await backends.start();
    await createStream(b, 's', 1);
    const sequenceNumbers = await putRecords(b, 's', 5);
    let failures = 0;
    const fail = (): never => {
      failures++;
      throw new Error('downstream down');
    };
    const first = consumer(
      b,
      'w1',
      helper === 'eachBatch'
        ? { ...slowRetry, eachBatch: () => fail() }
        : { ...slowRetry, eachRecord: ({ record }) => (text(record.data) === `r${failsAt}` ? fail() : undefined) },
    );
    await first.start();
    await until(() => failures >= 1, 'the first failure');
    await first.stop();

    const lease = await new LeaseTable({ client: b.dynamoDb, tableName: 'app' }).getLease('shardId-000000000000', { consistentRead: true });
    expect(lease?.checkpoint?.sequenceNumber).toBe(failsAt === 0 ? 'TRIM_HORIZON' : sequenceNumbers[failsAt - 1]);

    const again: string[] = [];
    const second = consumer(b, 'w2', { eachBatch: ({ records }) => void again.push(...records.map((r) => text(r.data))) });
    await second.start();
    await until(() => again.length >= redelivered.length, 'the failed records on the next worker');
    expect(again).toEqual(redelivered);
  });
});

describe('exactly one end of life per processor at shard end (mock)', () => {
  /** One shard with three records, split: the parent reaches its end. */
  async function splitStream(b: Backend): Promise<string> {
    await createStream(b, 's', 1);
    await putRecords(b, 's', 3);
    const [parent] = (await b.kinesis.send(new ListShardsCommand({ StreamName: 's' }))).Shards ?? [];
    await b.kinesis.send(new SplitShardCommand({ StreamName: 's', ShardToSplit: parent!.ShardId!, NewStartingHashKey: (2n ** 127n).toString() }));
    return parent!.ShardId!;
  }

  function lifecycleRecorder(calls: string[], shardEnded: NonNullable<ReturnType<NonNullable<KinesisConsumerOptions['processorFactory']>>['shardEnded']>) {
    return (shardId: string) => ({
      processRecords: () => undefined,
      leaseLost: () => void calls.push(`${shardId} leaseLost`),
      shutdownRequested: () => void calls.push(`${shardId} shutdownRequested`),
      shardEnded: async (input: Parameters<typeof shardEnded>[0]) => {
        calls.push(`${shardId} shardEnded`);
        await shardEnded(input);
      },
    });
  }

  it('the lease lost while shardEnded runs: no leaseLost after it', async () => {
    const b = await backends.start({ limits: false });
    const parent = await splitStream(b);
    const calls: string[] = [];
    let lostState = false;
    const c = consumer(b, 'w1', {
      processorFactory: lifecycleRecorder(calls, async ({ checkpointer }) => {
        // Another worker takes the lease (a counter-fenced take) before the SHARD_END checkpoint.
        await b.dynamoDb.send(
          new UpdateItemCommand({
            TableName: 'app',
            Key: { leaseKey: { S: parent } },
            UpdateExpression: 'SET leaseOwner = :o ADD leaseCounter :one',
            ExpressionAttributeValues: { ':o': { S: 'thief' }, ':one': { N: '1' } },
          }),
        );
        await checkpointer.checkpoint();
      }),
    });
    c.on('shardStateChanged', ({ shardId, state }) => {
      if (shardId === parent && state === 'lease-lost') lostState = true;
    });
    await c.start();
    await until(() => lostState, 'the parent lease lost');
    await c.stop();
    expect(calls.filter((call) => call.startsWith(parent))).toEqual([`${parent} shardEnded`]);
  });

  it('callProcessRecordsEvenForEmptyRecordList: no empty processRecords at the shard end, only shardEnded (as the KCL)', async () => {
    const b = await backends.start({ limits: false });
    await createStream(b, 's', 1);
    const [parent] = (await b.kinesis.send(new ListShardsCommand({ StreamName: 's' }))).Shards ?? [];
    await b.kinesis.send(new SplitShardCommand({ StreamName: 's', ShardToSplit: parent!.ShardId!, NewStartingHashKey: (2n ** 127n).toString() }));
    const calls: string[] = [];
    const c = consumer(b, 'w1', {
      callProcessRecordsEvenForEmptyRecordList: true,
      processorFactory: (shardId) => ({
        processRecords: ({ records, isAtShardEnd }) => void (shardId === parent!.ShardId && calls.push(`processRecords ${records.length} ${isAtShardEnd}`)),
        shardEnded: ({ checkpointer }) => {
          if (shardId === parent!.ShardId) calls.push('shardEnded');
          return checkpointer.checkpoint();
        },
      }),
    });
    await c.start();
    await until(() => calls.includes('shardEnded'), 'the parent ended');
    expect(calls.filter((call) => call.endsWith(' true'))).toEqual([]);
  });

  it('stop() while shardEnded runs (it does not checkpoint): no shutdownRequested after it', async () => {
    const b = await backends.start({ limits: false });
    const parent = await splitStream(b);
    const calls: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const c = consumer(b, 'w1', { autoCheckpointAtShardEnd: false, processorFactory: lifecycleRecorder(calls, () => gate) });
    await c.start();
    await until(() => calls.includes(`${parent} shardEnded`), 'shardEnded');
    const stopping = c.stop();
    // stop() asks the shard consumers to shut down once its own microtasks have run.
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await stopping;
    expect(calls.filter((call) => call.startsWith(parent))).toEqual([`${parent} shardEnded`]);
  });
});

describe('stop() while processRecords never returns (mock)', () => {
  it.each(['polling', 'fanout'] as const)('%s: fetching stops with stop(), nothing is left running', async (mode) => {
    const before = activeResources();
    const b = await startBackend({ subscribeCooldownMs: 0 });
    await createStream(b, 's', 1);
    await putRecords(b, 's', 3);
    let getRecords = 0;
    b.kinesis.middlewareStack.add(
      (next, context) => (args) => {
        if ((context as { commandName?: string }).commandName === 'GetRecordsCommand') getRecords++;
        return next(args);
      },
      { step: 'initialize' },
    );
    let hung = false;
    const c = new KinesisConsumer({
      applicationName: 'app',
      streamName: 's',
      kinesisClient: b.kinesis,
      dynamoDbClient: b.dynamoDb,
      initialPosition: 'TRIM_HORIZON',
      leaseManagement: FAST_LEASES,
      shutdownTimeoutMillis: 200,
      retrieval:
        mode === 'fanout'
          ? { mode: 'fanout' as const, consumerName: 'hung', subscribeCooldownMillis: 0 }
          : { mode: 'polling' as const, idleTimeBetweenReadsMillis: 10 },
      processorFactory: () => ({
        processRecords: () => {
          hung = true;
          return new Promise<void>(() => {}); // never settles
        },
      }),
    });
    await c.start();
    await until(() => hung, 'processRecords called');
    await c.stop();
    const fetchesAtStop = getRecords;
    expect(b.server.activeSubscriptions).toBe(0);
    // Polling every 10 ms: a loop still running would have fetched again by now.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(getRecords).toBe(fetchesAtStop);
    await b.close();
    expect(await leakedResources(before)).toEqual({});
  });
});
