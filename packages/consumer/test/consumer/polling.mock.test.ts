import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { UserRecord } from '@kinesis-kit/aggregation';
import { activeResources, InMemoryMetricsSink, leakedResources } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { KinesisConsumer, type ConsumerHandler, type ConsumerSettings, type ProcessingErrorInfo } from '../../src/index.js';
import { capturingLogger } from '../../src/capturing-logger.test-helpers.js';
import { createStream, decode, Deliveries, FAST_LEASES, produce, useBackendPerTest, until, type Backend } from './harness.js';

const backends = useBackendPerTest();

function consumer(b: Backend, options: Partial<ConsumerSettings> & Pick<ConsumerSettings, 'applicationName'> & ConsumerHandler & { streamName: string }): KinesisConsumer {
  const c = new KinesisConsumer({
    kinesisClient: b.kinesis,
    dynamoDbClient: b.dynamoDb,
    initialPosition: 'TRIM_HORIZON',
    leaseManagement: FAST_LEASES,
    ...options,
  });
  backends.track(c);
  return c;
}

describe('KinesisConsumer with polling, against the mock (limits on)', () => {
  it('delivers every aggregated record once, in order per key, checkpoints, and leaves no handle open', async () => {
    const before = activeResources();
    const backend = await backends.start();
    await createStream(backend, 'orders', 2);
    const put = await produce(backend, 'orders', 20, 50);
    const deliveries = new Deliveries();
    const metrics = new InMemoryMetricsSink();
    const c = consumer(backend, {
      applicationName: 'orders-app',
      streamName: 'orders',
      metrics,
      eachBatch: ({ records }) => {
        deliveries.add(records);
      },
    });
    await c.start();
    await until(() => deliveries.unique === put, 'every record');
    expect(deliveries.total).toBe(put);
    expect(deliveries.orderViolations()).toEqual([]);
    expect(deliveries.missing(20, 50)).toEqual([]);
    await until(() => c.status().shards.every((s) => s.checkpoint !== 'TRIM_HORIZON'), 'checkpoints after the batches');
    const status = c.status();
    expect(status.state).toBe('running');
    expect(status.shards.map((s) => s.state)).toEqual(['processing', 'processing']);
    expect(status.shards.reduce((n, s) => n + s.recordsProcessed, 0)).toBe(put);
    expect(metrics.get('RecordsProcessed').sum).toBe(put);
    expect(metrics.names()).toEqual(
      expect.arrayContaining(['MillisBehindLatest', 'DataBytesProcessed', 'KinesisDataFetcher.getRecords.Success', 'RecordProcessor.processRecords.Time', 'UpdateLease.Success']),
    );

    await c.stop();
    // The lease table holds the KCL's items: checkpoints are sequence numbers, owners released.
    const items = (await backend.dynamoDb.send(new ScanCommand({ TableName: 'orders-app' }))).Items ?? [];
    expect(items).toHaveLength(2);
    for (const item of items) {
      expect(item.checkpoint?.S).toMatch(/^\d+$/);
      expect(item.leaseOwner).toBeUndefined();
    }
    await backend.close();
    expect(await leakedResources(before)).toEqual({});
  });

  it("a worker holding 24 shards consumes, renews and stops without Node's MaxListenersExceededWarning", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const backend = await backends.start();
      await createStream(backend, 'wide', 24);
      const put = await produce(backend, 'wide', 48, 3);
      const deliveries = new Deliveries();
      const c = consumer(backend, { applicationName: 'wide-app', streamName: 'wide', eachBatch: ({ records }) => void deliveries.add(records) });
      let renewedAll = 0;
      c.on('takerRun', (e) => void (e.heldLeases === 24 && (renewedAll += 1)));
      await c.start();
      await until(() => deliveries.unique === put && c.status().shards.length === 24, 'every record, every shard held');
      // Two taker passes holding every lease are a taker period apart, longer than the renewal interval.
      await until(() => renewedAll >= 2, 'two taker passes holding all 24 leases');
      await c.stop({ timeoutMillis: 2_000 });
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it("GetRecords failing on every shard is logged once in 10 s, and only from some shard's 3rd failure in a row; nothing is lost", async () => {
    const backend = await backends.start();
    await createStream(backend, 'outage', 4);
    const { logger, warnings } = capturingLogger();
    const deliveries = new Deliveries();
    const failuresByShard = new Map<string, number>();
    let mostInARowAtFirstWarning: number | undefined;
    const c = consumer(backend, { applicationName: 'outage-app', streamName: 'outage', logger, eachBatch: ({ records }) => void deliveries.add(records) });
    const kinds = new Set<string>();
    c.on('retrievalError', (e) => {
      kinds.add(`${e.operation} ${e.kind}`);
      failuresByShard.set(e.shardId, (failuresByShard.get(e.shardId) ?? 0) + 1);
      if (mostInARowAtFirstWarning === undefined && warnings.includes('GetRecords failed')) mostInARowAtFirstWarning = Math.max(...failuresByShard.values());
    });
    await c.start();
    await until(() => c.status().shards.filter((s) => s.state === 'processing').length === 4, 'every shard being read');
    backend.server.setFaults({ rules: [{ operation: 'GetRecords', errorRate: 1 }] });
    const put = await produce(backend, 'outage', 8, 3);
    await until(() => failuresByShard.size === 4 && [...failuresByShard.values()].every((n) => n >= 3), 'three failed GetRecords calls per shard');
    backend.server.setFaults(undefined);
    expect([...kinds]).toEqual(['GetRecords transient']);
    expect(mostInARowAtFirstWarning).toBe(3); // the first two of each shard were said at debug level only
    expect(warnings.filter((w) => w === 'GetRecords failed')).toHaveLength(1); // 12+ failures, well within 10 s
    await until(() => deliveries.unique === put, 'every record after the outage');
  });

  it('resumes after a restart from a checkpoint in the middle of an aggregated record', async () => {
    const backend = await backends.start();
    await createStream(backend, 'one', 1);
    await produce(backend, 'one', 1, 200);
    let checkpointed: UserRecord | undefined;
    const first = consumer(backend, {
      applicationName: 'resume-app',
      streamName: 'one',
      processorFactory: () => ({
        async processRecords({ records, checkpointer }) {
          if (checkpointed) return;
          const mid = records.find((r) => r.aggregated && r.subSequenceNumber > 0 && decode(r).n >= 36)!;
          await checkpointer.checkpoint(mid);
          checkpointed = mid;
        },
      }),
    });
    await first.start();
    await until(() => checkpointed !== undefined, 'the first checkpoint');
    await first.stop();

    const after = new Deliveries();
    const second = consumer(backend, { applicationName: 'resume-app', streamName: 'one', eachBatch: ({ records }) => after.add(records) });
    await second.start();
    const from = decode(checkpointed!).n + 1;
    await until(() => after.unique === 200 - from, 'the records after the checkpoint');
    expect(Math.min(...after.byKey.get('key-0')!)).toBe(from);
    expect(after.total).toBe(200 - from);
  });

  it('retries a throwing processor with backoff and loses nothing', async () => {
    const backend = await backends.start();
    await createStream(backend, 'flaky', 2);
    const put = await produce(backend, 'flaky', 10, 30);
    const deliveries = new Deliveries();
    const errors: ProcessingErrorInfo[] = [];
    let calls = 0;
    const c = consumer(backend, {
      applicationName: 'flaky-app',
      streamName: 'flaky',
      failurePolicy: { retryBaseDelayMillis: 10, retryMaxDelayMillis: 50 },
      eachBatch: ({ records }) => {
        calls++;
        if (calls <= 3) throw new Error(`boom ${calls}`);
        deliveries.add(records);
      },
    });
    c.on('processingError', (e) => {
      errors.push(e);
    });
    let skipped = 0;
    c.on('recordsSkipped', () => {
      skipped++;
    });
    await c.start();
    await until(() => deliveries.unique === put, 'every record despite the failures');
    expect(errors).toHaveLength(3);
    expect(errors.every((e) => e.willRetry)).toBe(true);
    expect(skipped).toBe(0);
    expect(deliveries.orderViolations()).toEqual([]);
  });

  it('hands records to onFailure and skips them only after maxRetries', async () => {
    const backend = await backends.start();
    await createStream(backend, 'poison', 1);
    const put = await produce(backend, 'poison', 1, 20);
    const failed: number[] = [];
    const processed: number[] = [];
    const c = consumer(backend, {
      applicationName: 'poison-app',
      streamName: 'poison',
      failurePolicy: {
        maxRetries: 2,
        bisectOnError: true,
        retryBaseDelayMillis: 1,
        retryMaxDelayMillis: 5,
        onFailure: ({ records }) => {
          failed.push(...records.map((r) => decode(r).n));
        },
      },
      eachRecord: ({ record }) => {
        const { n } = decode(record);
        if (n === 7) throw new Error('poison pill');
        processed.push(n);
      },
    });
    await c.start();
    await until(() => failed.length === 1 && new Set(processed).size === put - 1, 'the poison record isolated');
    expect(failed).toEqual([7]);
    expect([...new Set(processed)].sort((a, b) => a - b)).toEqual([...Array(put).keys()].filter((n) => n !== 7));
  });

  it('restarts a shard consumer whose processor factory threw, so a held shard is never left idle', async () => {
    const backend = await backends.start();
    await createStream(backend, 'factory', 1);
    const put = await produce(backend, 'factory', 5, 10);
    const deliveries = new Deliveries();
    let calls = 0;
    const errors: string[] = [];
    const c = consumer(backend, {
      applicationName: 'factory-app',
      streamName: 'factory',
      failurePolicy: { retryBaseDelayMillis: 10 },
      processorFactory: () => {
        if (calls++ === 0) throw new Error('factory failed once');
        return { processRecords: ({ records }) => deliveries.add(records) };
      },
    });
    c.on('error', (e) => void errors.push(`${e.operation}: ${e.error.message}`));
    await c.start();
    await until(() => deliveries.unique === put, 'the restarted shard consumer to deliver');
    expect(errors).toEqual(['shardConsumer: factory failed once']);
    expect(calls).toBe(2);
  });
});
