import { DynamoDBClient, GetItemCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { ManualClock, silentLogger } from '@kinesis-kit/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoDbOperationError } from '../errors.js';
import { hasKclLeaseOwnerIndex, kclCoordinatorStateTableName, kclFleetMode, readKclMigrationState } from './kcl-migration-state.js';

const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const dynamo = mockClient(client);
afterEach(() => dynamo.reset());

const TABLES = { leaseTableName: 'app', coordinatorStateTableName: kclCoordinatorStateTableName('app') };
const ctx = { clock: new ManualClock(), random: () => 0, logger: silentLogger };

/** The AWS error an IAM policy without the CoordinatorState table produces (no local server can). */
function accessDenied(): Error {
  return Object.assign(new Error('User is not authorized to perform: dynamodb:GetItem'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
}

describe('kclFleetMode', () => {
  it('reads the KCL ClientVersion names', () => {
    expect(kclFleetMode('CLIENT_VERSION_3X')).toBe('kcl-3x');
    expect(kclFleetMode('CLIENT_VERSION_3X_WITH_ROLLBACK')).toBe('kcl-3x');
    expect(kclFleetMode('CLIENT_VERSION_UPGRADE_FROM_2X')).toBe('upgrading-from-2x');
    expect(kclFleetMode('CLIENT_VERSION_2X')).toBe('kcl-2x');
    expect(kclFleetMode('CLIENT_VERSION_INIT')).toBe('unknown');
  });
});

describe('hasKclLeaseOwnerIndex', () => {
  it('looks for LeaseOwnerToLeaseKeyIndex among the global secondary indexes', () => {
    expect(hasKclLeaseOwnerIndex({ GlobalSecondaryIndexes: [{ IndexName: 'LeaseOwnerToLeaseKeyIndex' }] })).toBe(true);
    expect(hasKclLeaseOwnerIndex({ GlobalSecondaryIndexes: [{ IndexName: 'other' }] })).toBe(false);
    expect(hasKclLeaseOwnerIndex({})).toBe(false);
  });
});

describe('readKclMigrationState', () => {
  it('reads the CoordinatorState table first (key `key`), as the KCL does, with consistent reads', async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).resolves({
      Item: { key: { S: 'Migration3.0' }, cv: { S: 'CLIENT_VERSION_3X_WITH_ROLLBACK' }, mb: { S: 'java-1' }, mts: { N: '1732950000000' } },
    });
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({ Item: { leaseKey: { S: 'Migration3.0' }, cv: { S: 'CLIENT_VERSION_2X' } } });
    const read = await readKclMigrationState(client, TABLES, ctx);
    expect(read).toEqual({
      state: { clientVersion: 'CLIENT_VERSION_3X_WITH_ROLLBACK', mode: 'kcl-3x', tableName: 'app-CoordinatorState', modifiedBy: 'java-1', modifiedAt: 1732950000000 },
      unreadable: [],
    });
    const calls = dynamo.commandCalls(GetItemCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([{ TableName: 'app-CoordinatorState', Key: { key: { S: 'Migration3.0' } }, ConsistentRead: true }]);
  });

  it('then the lease table (key `leaseKey`) when the CoordinatorState table does not exist or has no item', async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).rejects(new ResourceNotFoundException({ message: 'no table', $metadata: {} }));
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({ Item: { leaseKey: { S: 'Migration3.0' }, cv: { S: 'CLIENT_VERSION_UPGRADE_FROM_2X' } } });
    expect(await readKclMigrationState(client, TABLES, ctx)).toEqual({
      state: { clientVersion: 'CLIENT_VERSION_UPGRADE_FROM_2X', mode: 'upgrading-from-2x', tableName: 'app' },
      unreadable: [],
    });
    expect(dynamo.commandCalls(GetItemCommand).at(-1)!.args[0].input).toEqual({ TableName: 'app', Key: { leaseKey: { S: 'Migration3.0' } }, ConsistentRead: true });

    dynamo.reset();
    dynamo.on(GetItemCommand).resolves({});
    expect(await readKclMigrationState(client, TABLES, ctx)).toEqual({ state: undefined, unreadable: [] });
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(2);
  });

  it('reports a table it may not read (AccessDeniedException) and still reads the other', async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).rejects(accessDenied());
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({});
    expect(await readKclMigrationState(client, TABLES, ctx)).toEqual({
      state: undefined,
      unreadable: [{ tableName: 'app-CoordinatorState', code: 'AccessDeniedException' }],
    });
  });

  it('throws any other failure as a DynamoDbOperationError naming the table', async () => {
    dynamo.on(GetItemCommand).rejects(Object.assign(new Error('bad'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }));
    const err = await readKclMigrationState(client, TABLES, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DynamoDbOperationError);
    expect(err).toMatchObject({ awsErrorCode: 'ValidationException', tableName: 'app-CoordinatorState' });
  });
});
