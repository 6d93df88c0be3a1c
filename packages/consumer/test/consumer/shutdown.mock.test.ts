import { describe, expect, it } from 'vitest';
import { KinesisConsumer, LeaseLostError, LeaseTable, type Checkpointer, type ConsumerSettings, type ShardRecordProcessor } from '../../src/index.js';
import { createStream, Deliveries, FAST_LEASES, produce, stealLease, useBackendPerTest, until, type Backend } from './harness.js';

const backends = useBackendPerTest();

interface Calls {
  lifecycle: string[];
  lastCheckpointer?: Checkpointer;
}

function make(b: Backend, workerId: string, deliveries: Deliveries, calls: Calls, extra: Partial<ConsumerSettings> = {}): KinesisConsumer {
  const c = new KinesisConsumer({
    applicationName: 'stop-app',
    streamName: 'stop',
    kinesisClient: b.kinesis,
    dynamoDbClient: b.dynamoDb,
    workerId,
    initialPosition: 'TRIM_HORIZON',
    leaseManagement: FAST_LEASES,
    processorFactory: (shardId): ShardRecordProcessor => ({
      initialize: () => {
        calls.lifecycle.push(`${workerId} initialize ${shardId}`);
      },
      async processRecords({ records, checkpointer }) {
        deliveries.add(records);
        calls.lastCheckpointer = checkpointer;
        await checkpointer.checkpoint();
      },
      leaseLost: () => {
        calls.lifecycle.push(`${workerId} leaseLost ${shardId}`);
      },
      async shutdownRequested({ checkpointer }) {
        calls.lifecycle.push(`${workerId} shutdownRequested ${shardId}`);
        await checkpointer.checkpoint();
      },
    }),
    ...extra,
  });
  backends.track(c);
  return c;
}

describe('stop and lease loss (mock)', () => {
  it('a graceful stop calls shutdownRequested, releases the leases, and the peer takes over without duplicates', async () => {
    const backend = await backends.start();
    await createStream(backend, 'stop', 2);
    const deliveries = new Deliveries();
    const calls: Calls = { lifecycle: [] };
    const w1 = make(backend, 'w1', deliveries, calls);
    await w1.start();
    let put = await produce(backend, 'stop', 10, 20, 0);
    await until(() => deliveries.unique === put && w1.status().shards.length === 2, 'w1 processing both shards');
    const w2 = make(backend, 'w2', deliveries, calls);
    await w2.start();

    let released = 0;
    w1.on('leaseReleased', ({ evicted }) => {
      if (evicted) released++;
    });
    await w1.stop();
    // w2's first taker pass may have stolen one lease already (balance 1/1): if w1 noticed, that
    // one ended with leaseLost; if not, its shutdownRequested checkpoint and release were refused.
    for (const shard of ['shardId-000000000000', 'shardId-000000000001']) {
      const ends = calls.lifecycle.filter((l) => l === `w1 shutdownRequested ${shard}` || l === `w1 leaseLost ${shard}`);
      expect(ends, shard).toHaveLength(1);
    }
    const shutdowns = calls.lifecycle.filter((l) => l.startsWith('w1 shutdownRequested')).length;
    expect(shutdowns).toBeGreaterThan(0);
    expect(released).toBeGreaterThan(0);
    expect(released).toBeLessThanOrEqual(shutdowns);
    expect(w1.state).toBe('stopped');

    put += await produce(backend, 'stop', 10, 20, 20);
    await until(() => deliveries.unique === put, 'w2 to process what came after the stop');
    expect(w2.status().shards).toHaveLength(2);
    expect(deliveries.total).toBe(put); // the stop checkpointed everything delivered: no redelivery
    expect(deliveries.orderViolations()).toEqual([]);
  });

  it('a lease taken by another worker ends with leaseLost, and its checkpoints are refused', async () => {
    const backend = await backends.start();
    await createStream(backend, 'stop', 1);
    const deliveries = new Deliveries();
    const calls: Calls = { lifecycle: [] };
    const w1 = make(backend, 'w1', deliveries, calls);
    const lost: string[] = [];
    w1.on('leaseLost', ({ shardId, reason }) => {
      lost.push(`${shardId} ${reason}`);
    });
    await w1.start();
    const put = await produce(backend, 'stop', 5, 10);
    await until(() => deliveries.unique === put, 'w1 processing');

    // Another KCL worker steals the lease (a counter-fenced take, as the KCL taker does).
    const table = new LeaseTable({ client: backend.dynamoDb, tableName: 'stop-app' });
    await stealLease(table, 'shardId-000000000000', 'java-kcl-worker');

    await until(() => calls.lifecycle.includes('w1 leaseLost shardId-000000000000'), 'leaseLost on w1', 10_000);
    expect(lost).toEqual(['shardId-000000000000 conflict']);
    expect(w1.status().shards.find((s) => s.shardId === 'shardId-000000000000')?.state ?? 'gone').toMatch(/lease-lost|gone/);
    expect(calls.lifecycle).not.toContain('w1 shutdownRequested shardId-000000000000');
    await expect(calls.lastCheckpointer!.checkpoint()).rejects.toBeInstanceOf(LeaseLostError);
  });
});
