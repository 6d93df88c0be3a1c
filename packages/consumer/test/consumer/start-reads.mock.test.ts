import { DeleteItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { systemClock, type Clock } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { KinesisConsumer, type ConsumerSettings } from '../../src/index.js';
import { createStream, FAST_LEASES, until, useBackendPerTest, type Backend } from './harness.js';

/**
 * What start() reads from DynamoDB on an existing lease table: one DescribeTable and one Scan,
 * shared by the multi-stream check, the adoption of this worker's own leases and the first shard
 * sync, then the first taker pass's Scan (as the KCL: shard sync, then the taker). A listing that
 * grew old meanwhile (a slow fan-out registration) is not reused.
 */
type Item = Record<string, AttributeValue>;

const APP = 'start-reads';
const STREAM = 'orders';
const WORKER = 'restarting-worker';

function consumerOf(backend: Backend, extra: Partial<ConsumerSettings> = {}): KinesisConsumer {
  return new KinesisConsumer({
    applicationName: APP,
    streamName: STREAM,
    kinesisClient: backend.kinesis,
    dynamoDbClient: backend.dynamoDb,
    workerId: WORKER,
    leaseManagement: FAST_LEASES,
    eachBatch: () => {},
    ...extra,
  });
}

/** The worker whose start() is counted: its coordinator's own first taker pass comes a minute later. */
function countedConsumerOf(backend: Backend, extra: Partial<ConsumerSettings> = {}): KinesisConsumer {
  return consumerOf(backend, { leaseManagement: { ...FAST_LEASES, takerInitialJitterMillis: 60_000 }, random: () => 0.99, ...extra });
}

/** Counts the DynamoDB calls on the lease table by command, from now on. */
function countTableCalls(backend: Backend): Map<string, number> {
  const counts = new Map<string, number>();
  backend.dynamoDb.middlewareStack.add(
    (next, context) => (args) => {
      const command = context.commandName ?? '?';
      if ((args.input as { TableName?: string }).TableName === APP) counts.set(command, (counts.get(command) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countTableCalls' },
  );
  return counts;
}

async function leaseItems(backend: Backend): Promise<Item[]> {
  const out = await backend.dynamoDb.send(new ScanCommand({ TableName: APP, ConsistentRead: true }));
  return (out.Items ?? []).sort((a, b) => (a.leaseKey!.S! < b.leaseKey!.S! ? -1 : 1));
}

const countersOf = (items: Item[]): number[] => items.map((i) => Number(i.leaseCounter!.N));

describe('start() on an existing lease table (mock)', () => {
  const backends = useBackendPerTest();

  /** A 4-shard stream whose leases the worker held when it stopped without releasing them. */
  async function leasesLeftByEarlierRun(): Promise<{ backend: Backend; items: Item[] }> {
    const backend = await backends.start();
    await createStream(backend, STREAM, 4);
    const earlier = consumerOf(backend);
    await earlier.start();
    await until(() => earlier.status().shards.length === 4, 'the earlier run holding every lease');
    await earlier.stop({ timeoutMillis: 2_000, releaseLeases: false });
    const items = await leaseItems(backend);
    expect(items.map((i) => i.leaseOwner?.S)).toEqual([WORKER, WORKER, WORKER, WORKER]);
    return { backend, items };
  }

  /** Starts the counted worker; the lease-table calls its start() made, by command. */
  async function startCounted(backend: Backend, extra: Partial<ConsumerSettings> = {}): Promise<{ consumer: KinesisConsumer; atStart: Map<string, number> }> {
    const counts = countTableCalls(backend);
    const consumer = backends.track(countedConsumerOf(backend, extra));
    await consumer.start();
    return { consumer, atStart: new Map(counts) };
  }

  it('describes and scans the table once before its taker pass, and the restarted worker keeps its leases', async () => {
    const { backend, items } = await leasesLeftByEarlierRun();
    const { consumer, atStart } = await startCounted(backend);

    expect(atStart.get('DescribeTableCommand')).toBe(1);
    expect(atStart.get('ScanCommand')).toBe(2);
    // Adopted from the shared listing: held at once, each counter moved by the take.
    expect(consumer.status().shards.map((s) => s.shardId)).toHaveLength(4);
    const after = await leaseItems(backend);
    expect(after.map((i) => i.leaseOwner?.S)).toEqual([WORKER, WORKER, WORKER, WORKER]);
    for (const [n, counter] of countersOf(after).entries()) expect(counter).toBeGreaterThan(countersOf(items)[n]!);
  });

  it('the first shard sync works from the shared listing: a missing lease is created without a Scan of its own', async () => {
    const { backend } = await leasesLeftByEarlierRun();
    await backend.dynamoDb.send(new DeleteItemCommand({ TableName: APP, Key: { leaseKey: { S: 'shardId-000000000003' } } }));
    const { consumer, atStart } = await startCounted(backend);

    expect(atStart.get('DescribeTableCommand')).toBe(1);
    expect(atStart.get('PutItemCommand')).toBe(1);
    // The check's Scan, then a taker pass for the created lease and start()'s own first pass.
    expect(atStart.get('ScanCommand')).toBe(3);
    expect((await leaseItems(backend)).map((i) => i.leaseKey!.S)).toEqual([0, 1, 2, 3].map((n) => `shardId-00000000000${n}`));
    await until(() => consumer.status().shards.length === 4, 'the created lease taken');
  });

  it('a listing that grew older than 10 s is not reused: the coordinator and the shard sync read the table again', async () => {
    const { backend } = await leasesLeftByEarlierRun();
    // Monotonic time jumps 11 s once the check's Scan has answered (what a slow fan-out registration does).
    let offset = 0;
    const clock: Clock = { now: () => systemClock.now(), monotonic: () => systemClock.monotonic() + offset, setTimer: (fn, ms) => systemClock.setTimer(fn, ms) };
    backend.dynamoDb.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'ScanCommand' && offset === 0) offset = 11_000;
        return out;
      },
      { step: 'initialize', name: 'ageTheListing' },
    );
    const { consumer, atStart } = await startCounted(backend, { clock });

    expect(atStart.get('DescribeTableCommand')).toBe(2);
    expect(atStart.get('ScanCommand')).toBe(4);
    expect(consumer.status().shards).toHaveLength(4);
  });
});
