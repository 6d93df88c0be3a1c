import { ListShardsCommand, MergeShardsCommand, SplitShardCommand, UpdateShardCountCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { MemoryLogger } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { KinesisConsumer, LeaseTable, type KinesisConsumerOptions } from '../../src/index.js';
import { createStream, Deliveries, FAST_LEASES, produce, useBackendPerTest, until } from './harness.js';

const backends = useBackendPerTest();

async function openShards(kinesis: KinesisClient, streamName: string) {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  return shards
    .filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber)
    .map((s) => ({ id: s.ShardId!, start: BigInt(s.HashKeyRange!.StartingHashKey!), end: BigInt(s.HashKeyRange!.EndingHashKey!) }))
    .sort((a, b) => (a.start < b.start ? -1 : 1));
}

describe('resharding with two workers (mock, limits on)', () => {
  it('follows a split and a merge: parents before children, per-key order, nothing lost, parents cleaned up', async () => {
    const backend = await backends.start();
    const b = backend;
    await createStream(b, 'reshard', 2);
    const deliveries = new Deliveries();
    const firstDelivery = new Map<string, number>();
    const ended = new Map<string, number>();
    let tick = 0;
    const make = (workerId: string): KinesisConsumer => {
      const c = new KinesisConsumer({
        applicationName: 'reshard-app',
        streamName: 'reshard',
        kinesisClient: b.kinesis,
        dynamoDbClient: b.dynamoDb,
        workerId,
        initialPosition: 'TRIM_HORIZON',
        leaseManagement: FAST_LEASES,
        parentShardPollIntervalMillis: 100,
        shardSyncIntervalMillis: 300,
        eachBatch: ({ shardId, records }) => {
          if (!firstDelivery.has(shardId)) firstDelivery.set(shardId, ++tick);
          deliveries.add(records);
        },
      } satisfies KinesisConsumerOptions);
      c.on('shardEnded', ({ shardId }) => {
        ended.set(shardId, ++tick);
      });
      backends.track(c);
      return c;
    };
    const workers = [make('w1'), make('w2')];
    await Promise.all(workers.map((w) => w.start()));

    let put = await produce(b, 'reshard', 30, 20, 0);
    const [s0] = await openShards(b.kinesis, 'reshard');
    await b.kinesis.send(
      new SplitShardCommand({ StreamName: 'reshard', ShardToSplit: s0!.id, NewStartingHashKey: ((s0!.start + s0!.end + 1n) / 2n).toString() }),
    );
    put += await produce(b, 'reshard', 30, 20, 20);
    const open = await openShards(b.kinesis, 'reshard');
    // Merge the upper child of the split with its neighbour (shardId-000000000001).
    await b.kinesis.send(new MergeShardsCommand({ StreamName: 'reshard', ShardToMerge: open[1]!.id, AdjacentShardToMerge: open[2]!.id }));
    put += await produce(b, 'reshard', 30, 20, 40);

    await until(() => deliveries.unique === put, 'every record through the split and the merge', 30_000);
    expect(deliveries.missing(30, 60)).toEqual([]);
    expect(deliveries.orderViolations()).toEqual([]);

    // Each parent ended before any of its children delivered a record.
    const table = new LeaseTable({ client: b.dynamoDb, tableName: 'reshard-app' });
    const shards = (await b.kinesis.send(new ListShardsCommand({ StreamName: 'reshard' }))).Shards ?? [];
    for (const shard of shards) {
      for (const parent of [shard.ParentShardId, shard.AdjacentParentShardId]) {
        if (!parent || !firstDelivery.has(shard.ShardId!)) continue;
        expect(ended.get(parent), `${parent} ended before ${shard.ShardId} started`).toBeLessThan(firstDelivery.get(shard.ShardId!)!);
      }
    }
    // Finished parents are deleted once their children have started.
    await until(async () => {
      const keys = (await table.listLeases()).map((l) => l.leaseKey);
      return !keys.includes(s0!.id);
    }, 'cleanup of the split parent', 20_000);
    const leases = await table.listLeases();
    expect(leases.map((l) => l.leaseKey)).not.toContain(s0!.id);
    const child = leases.find((l) => l.parentShardIds.length === 2);
    expect(child?.hashKeyRange).toBeDefined();
  });

  // ListShards filtered by AT_TRIM_HORIZON / AT_TIMESTAMP lists only the closed parents here: a new
  // application must lease them, then the children at their ends (it used to create no lease at all).
  it.each([
    ['TRIM_HORIZON', 'split'],
    ['AT_TIMESTAMP', 'split'],
    ['TRIM_HORIZON', 'merge'],
    ['TRIM_HORIZON', 'scale'],
  ] as const)('a new application on a stream resharded before it started reads everything from %s (%s): parents first, then the children', async (position, reshard) => {
    const b = await backends.start({ limits: false });
    const startedAt = new Date(Date.now() - 60_000);
    await createStream(b, 'resharded', reshard === 'split' ? 1 : reshard === 'merge' ? 2 : 3);
    let put = await produce(b, 'resharded', 10, 5, 0);
    const [first, second] = await openShards(b.kinesis, 'resharded');
    if (reshard === 'split') {
      await b.kinesis.send(new SplitShardCommand({ StreamName: 'resharded', ShardToSplit: first!.id, NewStartingHashKey: (2n ** 127n).toString() }));
    } else if (reshard === 'merge') {
      await b.kinesis.send(new MergeShardsCommand({ StreamName: 'resharded', ShardToMerge: first!.id, AdjacentShardToMerge: second!.id }));
    } else {
      // UpdateShardCount 3 -> 4: splits and merges across the whole hash space.
      await b.kinesis.send(new UpdateShardCountCommand({ StreamName: 'resharded', TargetShardCount: 4, ScalingType: 'UNIFORM_SCALING' }));
    }
    put += await produce(b, 'resharded', 10, 5, 5);

    const deliveries = new Deliveries();
    const logger = new MemoryLogger();
    const c = backends.track(
      new KinesisConsumer({
        applicationName: `resharded-${position}-${reshard}`,
        streamName: 'resharded',
        kinesisClient: b.kinesis,
        dynamoDbClient: b.dynamoDb,
        initialPosition: position === 'TRIM_HORIZON' ? 'TRIM_HORIZON' : { timestamp: startedAt },
        leaseManagement: FAST_LEASES,
        parentShardPollIntervalMillis: 100,
        logger,
        eachBatch: ({ records }) => deliveries.add(records),
      }),
    );
    await c.start();
    await until(() => deliveries.unique === put, 'every record of the parents and of the children', 20_000);
    expect(deliveries.missing(10, 10)).toEqual([]);
    expect(deliveries.orderViolations()).toEqual([]);
    expect(logger.entries.filter((e) => e.level === 'warn').map((e) => e.message)).toEqual([]);
  });

  it('keeps a finished parent while its children are owned but still at TRIM_HORIZON (the KCL cleanup rule)', async () => {
    const b = await backends.start();
    await createStream(b, 'cleanup', 1);
    const [parent] = await openShards(b.kinesis, 'cleanup');
    await b.kinesis.send(new SplitShardCommand({ StreamName: 'cleanup', ShardToSplit: parent!.id, NewStartingHashKey: (2n ** 127n).toString() }));
    const children = (await openShards(b.kinesis, 'cleanup')).map((s) => s.id);
    const table = new LeaseTable({ client: b.dynamoDb, tableName: 'cleanup-app' });
    await table.ensureTable();
    await table.createLeaseIfNotExists({ leaseKey: parent!.id, checkpoint: { sequenceNumber: 'SHARD_END' }, childShardIds: children });
    // Taken by another (KCL) worker, not yet checkpointed.
    for (const id of children) {
      await table.createLeaseIfNotExists({ leaseKey: id, leaseOwner: 'java-worker', checkpoint: { sequenceNumber: 'TRIM_HORIZON' }, parentShardIds: [parent!.id] });
    }
    const c = backends.track(
      new KinesisConsumer({
        applicationName: 'cleanup-app',
        streamName: 'cleanup',
        kinesisClient: b.kinesis,
        dynamoDbClient: b.dynamoDb,
        workerId: 'ts-worker',
        leaseManagement: FAST_LEASES,
        eachBatch: () => {},
      }),
    );
    await c.start(); // its first shard sync runs the cleanup
    await c.syncShards();
    expect((await table.listLeases()).map((l) => l.leaseKey).sort()).toEqual([parent!.id, ...children].sort());
  });
});

