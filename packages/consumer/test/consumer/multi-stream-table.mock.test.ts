import { CreateTableCommand, PutItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, ListStreamConsumersCommand } from '@aws-sdk/client-kinesis';
import { activeResources, leakedResources } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { ConsumerErrorCode, KinesisConsumer, MultiStreamLeaseTableError, type ConsumerSettings } from '../../src/index.js';
import { createStream, FAST_LEASES, produce, startBackend, untilTableActive, type Backend } from './harness.js';

/**
 * A table written by a Java KCL multi-stream application (lease keys
 * `account:stream:creationEpoch:shardId`, kcl.md 1.3) cannot be consumed by kinesis-kit, which
 * keys leases by shard id: start() refuses it before registering, creating or taking anything, and
 * leaves nothing open.
 */
type Item = Record<string, AttributeValue>;

const TABLE = 'ms-app';
const MULTI_KEY = '123456789012:orders:1700000000:shardId-000000000000';

/** As the Java KCL (multi-stream) leaves a lease: checkpointed, its worker stopped (no owner). */
function multiStreamLease(checkpoint: string): Item {
  return {
    leaseKey: { S: MULTI_KEY },
    leaseCounter: { N: '17' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    checkpoint: { S: checkpoint },
    checkpointSubSequenceNumber: { N: '0' },
    streamName: { S: '123456789012:orders:1700000000' },
    shardId: { S: 'shardId-000000000000' },
    startingHashKey: { S: '0' },
    endingHashKey: { S: '340282366920938463463374607431768211455' },
  };
}

async function seedTable(backend: Backend, items: Item[]): Promise<void> {
  await backend.dynamoDb.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
    }),
  );
  await untilTableActive(backend.dynamoDb, TABLE);
  for (const item of items) await backend.dynamoDb.send(new PutItemCommand({ TableName: TABLE, Item: item }));
}

async function tableItems(backend: Backend): Promise<Item[]> {
  const out = await backend.dynamoDb.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));
  return (out.Items ?? []).sort((a, b) => (a.leaseKey!.S! < b.leaseKey!.S! ? -1 : 1));
}

function consumerOf(backend: Backend, extra: Partial<ConsumerSettings> = {}): KinesisConsumer {
  return new KinesisConsumer({
    applicationName: TABLE,
    streamName: 'orders',
    kinesisClient: backend.kinesis,
    dynamoDbClient: backend.dynamoDb,
    workerId: 'ts-worker',
    leaseManagement: FAST_LEASES,
    eachBatch: () => {},
    ...extra,
  });
}

const rejectionOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (err: unknown) => err);

describe('a KCL multi-stream lease table (mock)', () => {
  it('start() rejects with MultiStreamLeaseTableError: no lease created or taken, everything released', async () => {
    const before = activeResources();
    const backend = await startBackend();
    try {
      await createStream(backend, 'orders', 1);
      await produce(backend, 'orders', 2, 5);
      const kclItems = [
        multiStreamLease('49590338271490256608559692538361571095921575989136588898'),
        // KCL 3.5 single-table items beside the leases (not leases: skipped).
        { leaseKey: { S: 'Leader' }, entityType: { S: 'LEADER' }, ownerName: { S: 'java3-worker' } },
      ];
      await seedTable(backend, kclItems);
      const seeded = await tableItems(backend);

      const c = consumerOf(backend);
      const error = await rejectionOf(c.start());
      expect(error).toBeInstanceOf(MultiStreamLeaseTableError);
      expect(error).toMatchObject({
        code: ConsumerErrorCode.MULTI_STREAM_LEASE_TABLE,
        retriable: false,
        tableName: TABLE,
        leaseKey: MULTI_KEY,
      });
      expect((error as Error).message).toMatch(/multi-stream KCL application/);
      expect((error as Error).message).toMatch(/new table or application name/);
      expect(c.state).toBe('stopped');
      expect(c.coordinator.heldLeases()).toEqual([]);
      // No shardId-… lease at LATEST beside the KCL checkpoint, and the KCL lease untouched.
      expect(await tableItems(backend)).toEqual(seeded);
    } finally {
      await backend.close();
    }
    expect(await leakedResources(before)).toEqual({});
  });

  it('refuses before registering a fan-out consumer or adopting its own lease of an earlier run', async () => {
    const before = activeResources();
    const backend = await startBackend();
    try {
      await createStream(backend, 'orders', 1);
      // A table that an earlier kinesis-kit (before this check) shared with the KCL multi-stream
      // application: a shard-id lease of ours, owned by this worker id, beside the KCL's.
      const ours: Item = {
        leaseKey: { S: 'shardId-000000000000' },
        leaseOwner: { S: 'ts-worker' },
        leaseCounter: { N: '3' },
        ownerSwitchesSinceCheckpoint: { N: '0' },
        checkpoint: { S: 'LATEST' },
        checkpointSubSequenceNumber: { N: '0' },
      };
      await seedTable(backend, [ours, multiStreamLease('TRIM_HORIZON')]);
      const seeded = await tableItems(backend);

      const c = consumerOf(backend, { retrieval: { mode: 'fanout' } });
      const error = await rejectionOf(c.start());
      expect(error).toBeInstanceOf(MultiStreamLeaseTableError);
      expect(error).toMatchObject({ tableName: TABLE, leaseKey: MULTI_KEY });
      expect(c.state).toBe('stopped');
      expect(c.streamConsumerArn).toBeUndefined();
      expect(await tableItems(backend)).toEqual(seeded); // our own lease not adopted (counter unchanged)
      const arn = (await backend.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'orders' }))).StreamDescriptionSummary!.StreamARN!;
      const registered = await backend.kinesis.send(new ListStreamConsumersCommand({ StreamARN: arn }));
      expect(registered.Consumers ?? []).toEqual([]);
    } finally {
      await backend.close();
    }
    expect(await leakedResources(before)).toEqual({});
  });
});
