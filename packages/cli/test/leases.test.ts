import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { LeaseTable } from '@kinesis-kit/consumer';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../src/aws-clients.js';
import { leasesCommand } from '../src/commands/leases.js';
import { captureIo } from './io.js';

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

  it('a missing table is a clear error', async () => {
    await expect(leasesCommand(['--app', 'nobody', ...connection], captureIo())).rejects.toThrow(/nobody/);
  });
});
