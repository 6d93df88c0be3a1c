import { SentinelCheckpoint } from '@kinesis-kit/aggregation';
import { describe, expect, it } from 'vitest';
import { KinesisConsumer, LeaseTable } from '../../src/index.js';
import { createStream, Deliveries, FAST_LEASES, produce, until, useBackendPerTest } from './harness.js';

const backends = useBackendPerTest();

// The table stores a sentinel checkpoint but not the AT_TIMESTAMP timestamp: that comes from today's
// initialPosition. When initialPosition is no longer a timestamp, the lease is read from TRIM_HORIZON
// (nothing skipped) rather than from the configured LATEST.
describe('a lease whose checkpoint is a sentinel', () => {
  it('at AT_TIMESTAMP, read by a consumer configured with LATEST: starts at TRIM_HORIZON', async () => {
    const backend = await backends.start();
    await createStream(backend, 'sentinel', 1);
    const put = await produce(backend, 'sentinel', 5, 4);
    const table = new LeaseTable({ client: backend.dynamoDb, tableName: 'sentinel-app' });
    await table.ensureTable();
    await table.createLeaseIfNotExists({ leaseKey: 'shardId-000000000000', checkpoint: { sequenceNumber: SentinelCheckpoint.AT_TIMESTAMP } });

    const deliveries = new Deliveries();
    const consumer = backends.track(
      new KinesisConsumer({
        applicationName: 'sentinel-app',
        streamName: 'sentinel',
        kinesisClient: backend.kinesis,
        dynamoDbClient: backend.dynamoDb,
        workerId: 'w1',
        initialPosition: 'LATEST',
        leaseManagement: FAST_LEASES,
        eachBatch: ({ records }) => {
          deliveries.add(records);
        },
      }),
    );
    await consumer.start();
    await until(() => deliveries.unique === put, 'every record put before the start');
    expect(deliveries.missing(5, 4)).toEqual([]);
    expect(deliveries.orderViolations()).toEqual([]);
  });
});
