import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { LeaseTable } from '@kinesis-kit/consumer';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../src/aws-clients.js';
import { describeKclMigrationState, leasesCommand } from '../src/commands/leases.js';
import { captureIo } from './io.js';

/** A lease table with the index KCL 3.x creates (DynamoDBLeaseRefresher.createLeaseOwnerToLeaseKeyIndexIfNotExists). */
async function createKcl3LeaseTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'leaseKey', AttributeType: 'S' },
        { AttributeName: 'leaseOwner', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
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
    }),
  );
  await untilActive(dynamodb, tableName);
}

async function createTable(dynamodb: DynamoDBClient, tableName: string, keyAttribute: string): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: keyAttribute, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: keyAttribute, KeyType: 'HASH' }],
    }),
  );
  await untilActive(dynamodb, tableName);
}

async function untilActive(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  while ((await dynamodb.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus !== 'ACTIVE') {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('kinesis-kit leases', () => {
  let server: MockServer;
  let connection: string[];
  let firstSequence: string;

  beforeAll(async () => {
    server = await startMockServer({ streams: [{ name: 'orders', shardCount: 1 }] });
    process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
    connection = ['--endpoint', server.endpoint, '--region', 'us-east-1'];
    const clients = createAwsClients({ ...server.clientConfig(), http1: true });
    const put = await clients.kinesis.send(
      new PutRecordsCommand({ StreamName: 'orders', Records: [1, 2, 3].map((i) => ({ PartitionKey: `k${i}`, Data: Buffer.from(`r${i}`) })) }),
    );
    firstSequence = put.Records?.[0]?.SequenceNumber ?? '';
    clients.destroy();
    const dynamodb = new DynamoDBClient(server.clientConfig());
    const table = new LeaseTable({ client: dynamodb, tableName: 'my-app' });
    await table.ensureTable();
    await table.createLeaseIfNotExists({ leaseKey: 'shardId-000000000000', checkpoint: { sequenceNumber: firstSequence, subSequenceNumber: 0 }, leaseOwner: 'worker-1', childShardIds: ['shardId-000000000001'] });
    await table.createLeaseIfNotExists({ leaseKey: 'shardId-000000000001', checkpoint: { sequenceNumber: 'TRIM_HORIZON' }, parentShardIds: ['shardId-000000000000'] });
    dynamodb.destroy();
  });

  afterAll(async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await server.close();
  });

  it('prints the lease table with owners, checkpoints, parents, children and lag', async () => {
    const io = captureIo();
    expect(await leasesCommand(['--app', 'my-app', '--stream', 'orders', ...connection], io)).toBe(0);
    const [header, , parent, child, count] = io.stdout().trimEnd().split('\n');
    expect(header?.split(/\s+/)).toEqual(['shard', 'owner', 'counter', 'checkpoint', 'parents', 'children', 'lag']);
    expect(parent?.split(/\s+/)).toEqual(['shardId-000000000000', 'worker-1', expect.stringMatching(/^\d+$/), firstSequence, '-', 'shardId-000000000001', expect.stringMatching(/s$/)]);
    expect(child?.split(/\s+/)).toEqual(['shardId-000000000001', '(none)', expect.stringMatching(/^\d+$/), 'TRIM_HORIZON', 'shardId-000000000000', '-', '-']);
    expect(count).toBe('2 lease(s)');
  });

  it('--json prints one object per lease', async () => {
    const io = captureIo();
    await leasesCommand(['--app', 'my-app', '--json', ...connection], io);
    const leases = io.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(leases.map((l) => l.leaseKey).sort()).toEqual(['shardId-000000000000', 'shardId-000000000001']);
    expect(leases.find((l) => l.leaseKey === 'shardId-000000000000')).toMatchObject({ leaseOwner: 'worker-1', checkpoint: { sequenceNumber: firstSequence } });
  });

  it('lists rows workers cannot use on stderr (exit 1), and --repair fixes them', async () => {
    const dynamodb = new DynamoDBClient(server.clientConfig());
    const table = new LeaseTable({ client: dynamodb, tableName: 'broken-app' });
    await table.ensureTable();
    await dynamodb.send(new PutItemCommand({ TableName: 'broken-app', Item: { leaseKey: { S: 'shardId-000000000000' }, leaseCounter: { S: 'x' }, checkpoint: { S: firstSequence } } }));
    await dynamodb.send(new PutItemCommand({ TableName: 'broken-app', Item: { leaseKey: { S: 'shardId-000000000001' }, leaseCounter: { N: '2' }, checkpoint: { S: 'oops' } } }));
    try {
      const check = captureIo();
      expect(await leasesCommand(['--app', 'broken-app', ...connection], check)).toBe(1);
      expect(check.stdout()).toContain('1 lease(s)'); // the row with the bad counter is not a lease to workers
      expect(check.stderr()).toContain('problem: shardId-000000000000: leaseCounter is S "x"');
      expect(check.stderr()).toContain('problem: shardId-000000000001: checkpoint is S "oops"');
      expect(check.stderr()).toContain('2 problem(s); --repair fixes them');

      const repair = captureIo();
      expect(await leasesCommand(['--app', 'broken-app', '--repair', '--reset-to', 'LATEST', ...connection], repair)).toBe(0);
      expect(repair.stderr()).toContain('repaired: shardId-000000000000: leaseCounter set to 1');
      expect(repair.stderr()).toContain('repaired: shardId-000000000001: leaseCounter 2 -> 3; checkpoint reset to LATEST');
      expect(repair.stdout()).toContain('2 lease(s)');

      const after = captureIo();
      expect(await leasesCommand(['--app', 'broken-app', '--json', ...connection], after)).toBe(0);
      expect(after.stderr()).toBe('');
      const leases = after.stdout().trim().split('\n').map((l) => JSON.parse(l) as { leaseKey: string; checkpoint: { sequenceNumber: string } });
      expect(leases.find((l) => l.leaseKey === 'shardId-000000000001')?.checkpoint.sequenceNumber).toBe('LATEST');
    } finally {
      dynamodb.destroy();
    }
  });

  it('says on stderr which mode a KCL 3.x fleet on the table runs (when the table has its index)', async () => {
    const dynamodb = new DynamoDBClient(server.clientConfig());
    try {
      await createKcl3LeaseTable(dynamodb, 'kcl3-app');
      await dynamodb.send(
        new PutItemCommand({
          TableName: 'kcl3-app',
          Item: { leaseKey: { S: 'Migration3.0' }, entityType: { S: 'CLIENT_VERSION_MIGRATION' }, cv: { S: 'CLIENT_VERSION_UPGRADE_FROM_2X' }, mb: { S: 'java-1' }, mts: { N: '1764460800000' } },
        }),
      );
      const io = captureIo();
      expect(await leasesCommand(['--app', 'kcl3-app', '--json', ...connection], io)).toBe(0);
      const state =
        'KCL 3.x fleet: CLIENT_VERSION_UPGRADE_FROM_2X (2.x-compatible, switches itself to 3.x mode about 10 minutes after no kinesis-kit worker holds a lease), ' +
        'in kcl3-app, by java-1 at 2025-11-30T00:00:00.000Z';
      // No worker metrics anywhere: whether its workers run is not known, so nothing is said of it.
      expect(io.stderr()).toBe(`${state}\n`);
      expect(io.stdout()).toBe('');

      // A Java worker's metrics item (KCL 3.5 keeps them in the lease table): running, and not listed as a lease.
      const lut = Math.floor(Date.now() / 1000) - 5;
      await dynamodb.send(
        new PutItemCommand({ TableName: 'kcl3-app', Item: { leaseKey: { S: 'java-1' }, entityType: { S: 'WORKER_METRIC_STATS' }, lut: { N: String(lut) } } }),
      );
      const running = captureIo();
      expect(await leasesCommand(['--app', 'kcl3-app', '--json', ...connection], running)).toBe(0);
      expect(running.stderr()).toBe(`${state}; 1 worker(s) running (worker metrics in the last 60 s)\n`);
      expect(running.stdout()).toBe('');

      // Its last report an hour old: stopped.
      await dynamodb.send(
        new PutItemCommand({ TableName: 'kcl3-app', Item: { leaseKey: { S: 'java-1' }, entityType: { S: 'WORKER_METRIC_STATS' }, lut: { N: String(lut - 3600) } } }),
      );
      const stopped = captureIo();
      expect(await leasesCommand(['--app', 'kcl3-app', '--json', ...connection], stopped)).toBe(0);
      expect(stopped.stderr()).toBe(`${state}; no worker running (no worker metrics in the last 60 s; last at ${new Date((lut - 3600) * 1000).toISOString()})\n`);

      // Without the index (my-app), nothing is said.
      const plain = captureIo();
      await leasesCommand(['--app', 'my-app', '--json', ...connection], plain);
      expect(plain.stderr()).toBe('');
    } finally {
      dynamodb.destroy();
    }
  });

  it('reads the worker metrics of a KCL 3.0-3.4 fleet from its WorkerMetricStats table', async () => {
    const dynamodb = new DynamoDBClient(server.clientConfig());
    try {
      await createKcl3LeaseTable(dynamodb, 'kcl30-app');
      await createTable(dynamodb, 'kcl30-app-CoordinatorState', 'key');
      await createTable(dynamodb, 'kcl30-app-WorkerMetricStats', 'wid');
      await dynamodb.send(new PutItemCommand({ TableName: 'kcl30-app-CoordinatorState', Item: { key: { S: 'Migration3.0' }, cv: { S: 'CLIENT_VERSION_3X_WITH_ROLLBACK' } } }));
      const lut = Math.floor(Date.now() / 1000) - 5;
      for (const wid of ['java-1', 'java-2']) {
        await dynamodb.send(new PutItemCommand({ TableName: 'kcl30-app-WorkerMetricStats', Item: { wid: { S: wid }, lut: { N: String(lut) } } }));
      }
      const io = captureIo();
      expect(await leasesCommand(['--app', 'kcl30-app', '--json', ...connection], io)).toBe(0);
      expect(io.stderr()).toMatch(/^KCL 3\.x fleet: CLIENT_VERSION_3X_WITH_ROLLBACK \(3\.x mode.*\), in kcl30-app-CoordinatorState; 2 worker\(s\) running \(worker metrics in the last 60 s\)\n$/);
    } finally {
      dynamodb.destroy();
    }
  });

  it('names the tables it could not read', () => {
    const denied = [{ tableName: 'app-CoordinatorState', code: 'AccessDeniedException' }];
    expect(describeKclMigrationState({ state: undefined, missing: [], unreadable: denied })).toBe(
      'KCL 3.x index on the table, no migration state found; could not read app-CoordinatorState (AccessDeniedException)',
    );
    expect(describeKclMigrationState({ state: undefined, missing: ['app-CoordinatorState'], unreadable: [] })).toBe('KCL 3.x index on the table, no migration state found');
    // The state from the lease table while the CoordinatorState table (read first by the KCL) could not be read: said.
    const state = { clientVersion: 'CLIENT_VERSION_3X', mode: 'kcl-3x' as const, tableName: 'app' };
    expect(describeKclMigrationState({ state, missing: [], unreadable: denied })).toBe(
      'KCL 3.x fleet: CLIENT_VERSION_3X (3.x mode: do not run kinesis-kit workers beside its workers while they run), in app; could not read app-CoordinatorState (AccessDeniedException)',
    );
    // Stopped workers: when the last report was.
    expect(describeKclMigrationState({ state, missing: [], unreadable: [] }, { live: 0, lastReportAt: Date.UTC(2026, 10, 30) })).toBe(
      'KCL 3.x fleet: CLIENT_VERSION_3X (3.x mode: do not run kinesis-kit workers beside its workers while they run), in app; ' +
        'no worker running (no worker metrics in the last 60 s; last at 2026-11-30T00:00:00.000Z)',
    );
  });

  it('--reset-to accepts only TRIM_HORIZON or LATEST', async () => {
    await expect(leasesCommand(['--app', 'my-app', '--repair', '--reset-to', 'AT_TIMESTAMP', ...connection], captureIo())).rejects.toThrow(/--reset-to/);
  });

  it('a missing table is a clear error', async () => {
    await expect(leasesCommand(['--app', 'nobody', ...connection], captureIo())).rejects.toThrow(/nobody/);
  });
});
