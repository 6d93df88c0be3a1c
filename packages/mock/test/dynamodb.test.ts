import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockServer, type MockServer } from '../src/index.js';
import { errorOf } from './helpers.js';

const CLIENTS = [
  { protocol: 'HTTP/1.1 (the DynamoDB client default)', http2: false },
  { protocol: 'HTTP/2 (NodeHttp2Handler)', http2: true },
] as const;

describe.each(CLIENTS)('DynamoDB on the same endpoint over $protocol', ({ http2 }) => {
  let server: MockServer;
  let ddb: DynamoDBClient;
  const TableName = 'leases';
  beforeAll(async () => {
    server = await startMockServer();
    ddb = new DynamoDBClient({ ...server.clientConfig(), maxAttempts: 1, ...(http2 ? { requestHandler: new NodeHttp2Handler() } : {}) });
  });
  afterAll(async () => {
    ddb.destroy();
    await server.close();
  });

  it('creates a table and runs a lease-table workload (conditional put/update, scan)', async () => {
    await ddb.send(
      new CreateTableCommand({
        TableName,
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    let status = (await ddb.send(new DescribeTableCommand({ TableName }))).Table!.TableStatus;
    for (let i = 0; i < 100 && status !== 'ACTIVE'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      status = (await ddb.send(new DescribeTableCommand({ TableName }))).Table!.TableStatus;
    }
    expect(status).toBe('ACTIVE');

    const put = (leaseKey: string) =>
      ddb.send(
        new PutItemCommand({
          TableName,
          Item: { leaseKey: { S: leaseKey }, leaseCounter: { N: '0' }, checkpoint: { S: 'TRIM_HORIZON' } },
          ConditionExpression: 'attribute_not_exists(leaseKey)',
        }),
      );
    await put('shardId-000000000000');
    await put('shardId-000000000001');
    const dup = await errorOf(put('shardId-000000000000'));
    expect(dup).toBeInstanceOf(ConditionalCheckFailedException);

    const take = (expected: string) =>
      ddb.send(
        new UpdateItemCommand({
          TableName,
          Key: { leaseKey: { S: 'shardId-000000000000' } },
          UpdateExpression: 'SET leaseOwner = :me ADD leaseCounter :one',
          ConditionExpression: 'leaseCounter = :expected',
          ExpressionAttributeValues: { ':me': { S: 'worker-1' }, ':one': { N: '1' }, ':expected': { N: expected } },
          ReturnValues: 'ALL_NEW',
        }),
      );
    expect((await take('0')).Attributes).toMatchObject({ leaseOwner: { S: 'worker-1' }, leaseCounter: { N: '1' } });
    expect((await errorOf(take('0'))).name).toBe('ConditionalCheckFailedException');
    const got = await ddb.send(new GetItemCommand({ TableName, Key: { leaseKey: { S: 'shardId-000000000000' } }, ConsistentRead: true }));
    expect(got.Item?.leaseCounter).toEqual({ N: '1' });

    const scan = await ddb.send(new ScanCommand({ TableName, Limit: 1 }));
    expect(scan.Items).toHaveLength(1);
    const rest = await ddb.send(new ScanCommand({ TableName, ExclusiveStartKey: scan.LastEvaluatedKey }));
    expect([...scan.Items!, ...rest.Items!].map((i) => i.leaseKey!.S).sort()).toEqual(['shardId-000000000000', 'shardId-000000000001']);
  });

  it('answers UnknownOperationException for DynamoDB when dynamodb: false', async () => {
    const noDdb = await startMockServer({ dynamodb: false });
    const client = new DynamoDBClient({ ...noDdb.clientConfig(), maxAttempts: 1 });
    try {
      expect((await errorOf(client.send(new DescribeTableCommand({ TableName })))).name).toBe('UnknownOperationException');
    } finally {
      client.destroy();
      await noDdb.close();
    }
  });
});
