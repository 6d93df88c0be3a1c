import { CreateTableCommand, DeleteItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { activeResources, leakedResources, type Logger } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../src/capturing-logger.test-helpers.js';
import { KinesisConsumer, readKclWorkerMetricsTable, type KclMigrationStateEvent } from '../../src/index.js';
import { createStream, FAST_LEASES, produce, until, untilTableActive, useBackendPerTest, type Backend } from './harness.js';

/**
 * A KCL 3.x fleet records the lease algorithm it runs in a `Migration3.0` item (lease table in the
 * 3.5 single-table layout, else `<app>-CoordinatorState`), and creates the LeaseOwnerToLeaseKeyIndex
 * on the lease table in the modes that do not mix with our 2.x protocol; in those modes its workers
 * publish worker metrics (`lut`, epoch seconds, every 30 s). The consumer reports the state (event,
 * and a warning while Java workers run) at start and when it changes or the workers start or stop;
 * it never looks without the index.
 */
const APP = 'kcl3-app';
type Item = Record<string, AttributeValue>;

async function createLeaseTable(dynamoDb: DynamoDBClient, withKclIndex: boolean): Promise<void> {
  await dynamoDb.send(
    new CreateTableCommand({
      TableName: APP,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'leaseKey', AttributeType: 'S' },
        ...(withKclIndex ? [{ AttributeName: 'leaseOwner', AttributeType: 'S' as const }] : []),
      ],
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
      ...(withKclIndex
        ? {
            // As KCL 3.x creates it (DynamoDBLeaseRefresher.createLeaseOwnerToLeaseKeyIndexIfNotExists).
            GlobalSecondaryIndexes: [
              {
                IndexName: 'LeaseOwnerToLeaseKeyIndex',
                KeySchema: [
                  { AttributeName: 'leaseOwner', KeyType: 'HASH' },
                  { AttributeName: 'leaseKey', KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'KEYS_ONLY' },
              },
            ],
          }
        : {}),
    }),
  );
  await untilTableActive(dynamoDb, APP);
}

/** One of the KCL 3.0-3.4 layout's tables (CoordinatorState, WorkerMetricStats), ACTIVE. */
async function createKclTable(dynamoDb: DynamoDBClient, tableName: string, keyAttribute: string): Promise<void> {
  await dynamoDb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: keyAttribute, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: keyAttribute, KeyType: 'HASH' }],
    }),
  );
  await untilTableActive(dynamoDb, tableName);
}

/** The migration item as KCL 3.5 writes it into the lease table (single-table layout). */
function migrationItem(clientVersion: string, modifiedAt: number): Item {
  return {
    leaseKey: { S: 'Migration3.0' },
    entityType: { S: 'CLIENT_VERSION_MIGRATION' },
    cv: { S: clientVersion },
    mb: { S: 'java-worker-1' },
    mts: { N: String(modifiedAt) },
    h: { L: [] },
  };
}

/** A KCL 3.5 worker's metrics item in the lease table, last reported `ageSeconds` ago. */
function workerMetricsItem(workerId: string, ageSeconds: number): Item {
  return {
    leaseKey: { S: workerId },
    entityType: { S: 'WORKER_METRIC_STATS' },
    lut: { N: String(Math.floor(Date.now() / 1000) - ageSeconds) },
    sts: { M: {} },
    opr: { M: {} },
  };
}

/** GetItem calls on the migration item, counted on the client the consumer uses. */
function countMigrationReads(dynamoDb: DynamoDBClient): { readonly count: number } {
  const seen = { count: 0 };
  dynamoDb.middlewareStack.add(
    (next, context) => (args) => {
      const input = args.input as { Key?: Item };
      if (context.commandName === 'GetItemCommand' && (input.Key?.leaseKey ?? input.Key?.key)?.S === 'Migration3.0') seen.count += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countMigrationReads' },
  );
  return seen;
}

describe('a KCL 3.x fleet on the lease table (mock)', () => {
  const backends = useBackendPerTest();

  async function setUp(withKclIndex: boolean, items: Item[]): Promise<Backend> {
    const backend = await backends.start();
    await createStream(backend, 'orders', 2);
    await produce(backend, 'orders', 4, 5);
    await createLeaseTable(backend.dynamoDb, withKclIndex);
    for (const item of items) await backend.dynamoDb.send(new PutItemCommand({ TableName: APP, Item: item }));
    return backend;
  }

  /** The consumer's kclMigrationState events, as they come. */
  function migrationStates(consumer: KinesisConsumer): KclMigrationStateEvent[] {
    const events: KclMigrationStateEvent[] = [];
    consumer.on('kclMigrationState', (e) => {
      events.push(e);
    });
    return events;
  }

  function consumerOf(backend: Backend, logger: Logger, delivered: { count: number }): KinesisConsumer {
    return backends.track(
      new KinesisConsumer({
        applicationName: APP,
        streamName: 'orders',
        kinesisClient: backend.kinesis,
        dynamoDbClient: backend.dynamoDb,
        workerId: 'ts-worker',
        leaseManagement: FAST_LEASES,
        initialPosition: 'TRIM_HORIZON',
        shardSyncIntervalMillis: 200,
        logger,
        eachBatch: ({ records }) => {
          delivered.count += records.length;
        },
      }),
    );
  }

  it('reports a running 3.x-mode fleet at start (event and warning) and still consumes', async () => {
    const backend = await setUp(true, [
      migrationItem('CLIENT_VERSION_3X_WITH_ROLLBACK', 1732950000000),
      workerMetricsItem('java-worker-1', 5),
      workerMetricsItem('java-worker-2', 20),
      workerMetricsItem('java-worker-gone', 3600),
    ]);
    const reads = countMigrationReads(backend.dynamoDb);
    const { logger, warnings } = capturingLogger();
    const delivered = { count: 0 };
    const consumer = consumerOf(backend, logger, delivered);
    const events = migrationStates(consumer);
    await consumer.start();
    expect(events).toEqual([
      {
        clientVersion: 'CLIENT_VERSION_3X_WITH_ROLLBACK',
        mode: 'kcl-3x',
        tableName: APP,
        modifiedBy: 'java-worker-1',
        modifiedAt: 1732950000000,
        liveKclWorkers: 2,
        lastKclWorkerReportAt: expect.any(Number) as number,
      },
    ]);
    expect(Date.now() - events[0]!.lastKclWorkerReportAt!).toBeLessThan(60_000);
    // The CoordinatorState table (missing here) and the lease table.
    expect(reads.count).toBe(2);
    expect(warnings.filter((w) => w.startsWith('a KCL 3.x fleet ran this lease table in 3.x mode. 2 of its workers reported'))).toHaveLength(1);
    await until(() => delivered.count === 20, 'every record delivered');
    // Read again after each timed shard sync pass (the lease table; the missing table every 10th pass), reported once.
    await until(() => reads.count >= 5, 'three more reads');
    expect(events).toHaveLength(1);
    expect(warnings.filter((w) => w.startsWith('a KCL 3.x fleet'))).toHaveLength(1);
  });

  it('reports the switch when the fleet flips to 3.x mode while running (read at each shard sync pass)', async () => {
    const backend = await setUp(true, [migrationItem('CLIENT_VERSION_UPGRADE_FROM_2X', 1732950000000), workerMetricsItem('java-worker-1', 0)]);
    const { logger, warnings } = capturingLogger();
    const consumer = consumerOf(backend, logger, { count: 0 });
    await consumer.start();
    expect(warnings.filter((w) => w.startsWith('KCL 3.x workers in 2.x-compatible mode'))).toHaveLength(1);
    const flipped = consumer.next('kclMigrationState', AbortSignal.timeout(20_000));
    await backend.dynamoDb.send(new PutItemCommand({ TableName: APP, Item: migrationItem('CLIENT_VERSION_3X_WITH_ROLLBACK', 1732950600000) }));
    expect(await flipped).toEqual({
      clientVersion: 'CLIENT_VERSION_3X_WITH_ROLLBACK',
      mode: 'kcl-3x',
      tableName: APP,
      modifiedBy: 'java-worker-1',
      modifiedAt: 1732950600000,
      previousClientVersion: 'CLIENT_VERSION_UPGRADE_FROM_2X',
      liveKclWorkers: 1,
      lastKclWorkerReportAt: expect.any(Number) as number,
    });
  });

  it('a stopped fleet (no worker metrics in the last 60 s) is reported without a warning; its workers starting and stopping again are reported', async () => {
    const backend = await setUp(true, [migrationItem('CLIENT_VERSION_3X_WITH_ROLLBACK', 1), workerMetricsItem('java-worker-1', 600)]);
    const { logger, warnings, infos } = capturingLogger();
    const consumer = consumerOf(backend, logger, { count: 0 });
    const events = migrationStates(consumer);
    await consumer.start();
    const lastReportAt = (Math.floor(Date.now() / 1000) - 600) * 1000;
    expect(events).toEqual([
      expect.objectContaining({ clientVersion: 'CLIENT_VERSION_3X_WITH_ROLLBACK', liveKclWorkers: 0, lastKclWorkerReportAt: expect.closeTo(lastReportAt, -4) as number }),
    ]);
    expect(warnings).toEqual([]);
    expect(infos.filter((m) => m.startsWith('a KCL 3.x fleet ran this lease table in 3.x mode; none of its workers has reported'))).toHaveLength(1);

    // A Java worker starts: its first report reaches the lease table.
    await backend.dynamoDb.send(new PutItemCommand({ TableName: APP, Item: workerMetricsItem('java-worker-3', 0) }));
    await until(() => events.length === 2, 'the running fleet reported');
    expect(events[1]).toEqual(expect.objectContaining({ clientVersion: 'CLIENT_VERSION_3X_WITH_ROLLBACK', liveKclWorkers: 1 }));
    expect(events[1]).not.toHaveProperty('previousClientVersion');
    expect(warnings.filter((w) => w.startsWith('a KCL 3.x fleet ran this lease table in 3.x mode. 1 of its workers reported'))).toHaveLength(1);

    // It stops (here its item goes; a stopped worker's item just ages past 60 s).
    await backend.dynamoDb.send(new DeleteItemCommand({ TableName: APP, Key: { leaseKey: { S: 'java-worker-3' } } }));
    await until(() => events.length === 3, 'the stopped fleet reported');
    expect(events[2]).toEqual(expect.objectContaining({ liveKclWorkers: 0 }));
    expect(warnings).toHaveLength(1);
  });

  it("takes the CoordinatorState table's item (KCL 3.0-3.4) over the lease table's, as the KCL does", async () => {
    const backend = await setUp(true, [migrationItem('CLIENT_VERSION_2X', 1)]);
    await createKclTable(backend.dynamoDb, `${APP}-CoordinatorState`, 'key');
    await backend.dynamoDb.send(
      new PutItemCommand({
        TableName: `${APP}-CoordinatorState`,
        Item: { key: { S: 'Migration3.0' }, cv: { S: 'CLIENT_VERSION_UPGRADE_FROM_2X' }, mb: { S: 'java-worker-2' }, mts: { N: '5' } },
      }),
    );
    // That layout's worker metrics live in their own table, keyed by worker id.
    await createKclTable(backend.dynamoDb, `${APP}-WorkerMetricStats`, 'wid');
    const lut = Math.floor(Date.now() / 1000) - 10;
    await backend.dynamoDb.send(new PutItemCommand({ TableName: `${APP}-WorkerMetricStats`, Item: { wid: { S: 'java-worker-2' }, lut: { N: String(lut) } } }));
    const consumer = consumerOf(backend, capturingLogger().logger, { count: 0 });
    const events = migrationStates(consumer);
    await consumer.start();
    expect(events).toEqual([
      {
        clientVersion: 'CLIENT_VERSION_UPGRADE_FROM_2X',
        mode: 'upgrading-from-2x',
        tableName: `${APP}-CoordinatorState`,
        modifiedBy: 'java-worker-2',
        modifiedAt: 5,
        liveKclWorkers: 1,
        lastKclWorkerReportAt: lut * 1000,
      },
    ]);
  });

  it('does not look without the KCL 3.x index (a 2.x fleet, or one rolled back), at start or later', async () => {
    const backend = await setUp(false, [migrationItem('CLIENT_VERSION_3X_WITH_ROLLBACK', 1)]);
    const reads = countMigrationReads(backend.dynamoDb);
    const { logger, warnings } = capturingLogger();
    const consumer = consumerOf(backend, logger, { count: 0 });
    const events = migrationStates(consumer);
    await consumer.start();
    // The check follows a pass's shardSync event: after the third, two later passes have been checked.
    for (let i = 0; i < 3; i++) await consumer.next('shardSync');
    expect(reads.count).toBe(0);
    expect(events).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('stop() during a read of the migration state cancels it: no warning, no later read', async () => {
    const before = activeResources();
    const backend = await setUp(true, [migrationItem('CLIENT_VERSION_UPGRADE_FROM_2X', 1)]);
    const reads = countMigrationReads(backend.dynamoDb);
    const { logger, warnings } = capturingLogger();
    const consumer = consumerOf(backend, logger, { count: 0 });
    await consumer.start();
    const readsAtStart = reads.count;
    // Longer than the test's timeout: stop() returns only because the read is cancelled.
    backend.server.setFaults({ rules: [{ service: 'dynamodb', operation: 'GetItem', latencyMs: 120_000 }] });
    await until(() => reads.count > readsAtStart, 'a read in flight');
    const inFlight = reads.count;
    await consumer.stop({ timeoutMillis: 2_000 });
    expect(reads.count).toBe(inFlight);
    expect(warnings.filter((w) => !w.startsWith('KCL 3.x workers in 2.x-compatible mode'))).toEqual([]);
    await backend.close();
    expect(await leakedResources(before)).toEqual({});
  });

  it('leaves no handle open after stop, with the periodic check running', async () => {
    const before = activeResources();
    const backend = await setUp(true, [migrationItem('CLIENT_VERSION_UPGRADE_FROM_2X', 1)]);
    const consumer = consumerOf(backend, capturingLogger().logger, { count: 0 });
    await consumer.start();
    await consumer.next('shardSync');
    await consumer.stop({ timeoutMillis: 2_000 });
    await backend.close();
    expect(await leakedResources(before)).toEqual({});
  });
  it('stop() during the scan of the WorkerMetricStats table: stop() resolves and the consumer is stopped', async () => {
    const before = activeResources();
    const backend = await setUp(true, [migrationItem('CLIENT_VERSION_3X', 1)]);
    await createKclTable(backend.dynamoDb, `${APP}-WorkerMetricStats`, 'wid');
    // Holds the next Scan of that table until released; the SDK then finds its signal aborted.
    const gate: { hold: boolean; held: number; release: () => void } = { hold: false, held: 0, release: () => undefined };
    backend.dynamoDb.middlewareStack.add(
      (next, context) => async (args) => {
        const { TableName } = args.input as { TableName?: string };
        if (gate.hold && context.commandName === 'ScanCommand' && TableName === `${APP}-WorkerMetricStats`) {
          gate.held += 1;
          await new Promise<void>((resolve) => {
            gate.release = resolve;
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'holdWorkerMetricsScan' },
    );
    const { logger, warnings } = capturingLogger();
    const consumer = consumerOf(backend, logger, { count: 0 });
    await consumer.start();
    gate.hold = true;
    await until(() => gate.held > 0, 'a WorkerMetricStats scan in flight');
    const stopped = consumer.stop({ timeoutMillis: 2_000 });
    gate.release();
    await expect(stopped).resolves.toBeUndefined();
    expect(consumer.state).toBe('stopped');
    expect(warnings.filter((w) => !w.startsWith('a KCL 3.x fleet ran this lease table in 3.x mode'))).toEqual([]);
    await backend.close();
    expect(await leakedResources(before)).toEqual({});
  });

  it('readKclWorkerMetricsTable reads every page, and only wid and lut', async () => {
    const backend = await backends.start();
    const tableName = `${APP}-WorkerMetricStats`;
    await createKclTable(backend.dynamoDb, tableName, 'wid');
    for (const wid of ['java-1', 'java-2', 'java-3']) {
      await backend.dynamoDb.send(new PutItemCommand({ TableName: tableName, Item: { wid: { S: wid }, lut: { N: '1764000000' }, sts: { M: { cpu: { N: '1' } } } } }));
    }
    const scans: { ProjectionExpression?: string; ExclusiveStartKey?: unknown }[] = [];
    backend.dynamoDb.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'ScanCommand') scans.push(args.input as (typeof scans)[number]);
        return next(args);
      },
      { step: 'initialize', name: 'recordScans' },
    );
    const read = await readKclWorkerMetricsTable(backend.dynamoDb, tableName, { pageSize: 1 });
    expect('reports' in read && read.reports.map((r) => r.workerId).sort()).toEqual(['java-1', 'java-2', 'java-3']);
    expect(scans.length).toBeGreaterThanOrEqual(3);
    expect(scans.every((scan) => scan.ProjectionExpression === 'wid, lut')).toBe(true);
    expect(scans.slice(1).every((scan) => scan.ExclusiveStartKey !== undefined)).toBe(true);
    expect(await readKclWorkerMetricsTable(backend.dynamoDb, 'no-such-table')).toEqual({ missing: true });
  });
});
