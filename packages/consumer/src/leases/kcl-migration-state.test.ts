import { DynamoDBClient, GetItemCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { isAbortError, ManualClock, silentLogger } from '@kinesis-kit/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { hasKclLeaseOwnerIndex, kclCoordinatorStateTableName, kclFleetMode, readKclMigrationState } from './kcl-migration-state.js';

const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const dynamo = mockClient(client);
afterEach(() => dynamo.reset());

const TABLES = { leaseTableName: 'app', coordinatorStateTableName: kclCoordinatorStateTableName('app') };
const ctx = { clock: new ManualClock(), random: () => 0, logger: silentLogger };

/** AWS errors no local server produces (AccessDeniedException: an IAM policy without the CoordinatorState table). */
function awsError(name: string): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 } });
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
  it("reads both tables with consistent reads; the CoordinatorState table's item wins, as the KCL reads it first", async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).resolves({
      Item: { key: { S: 'Migration3.0' }, cv: { S: 'CLIENT_VERSION_3X_WITH_ROLLBACK' }, mb: { S: 'java-1' }, mts: { N: '1732950000000' } },
    });
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({ Item: { leaseKey: { S: 'Migration3.0' }, cv: { S: 'CLIENT_VERSION_2X' } } });
    const read = await readKclMigrationState(client, TABLES, ctx);
    expect(read).toEqual({
      state: { clientVersion: 'CLIENT_VERSION_3X_WITH_ROLLBACK', mode: 'kcl-3x', tableName: 'app-CoordinatorState', modifiedBy: 'java-1', modifiedAt: 1732950000000 },
      missing: [],
      unreadable: [],
    });
    const calls = dynamo.commandCalls(GetItemCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { TableName: 'app-CoordinatorState', Key: { key: { S: 'Migration3.0' } }, ConsistentRead: true },
      { TableName: 'app', Key: { leaseKey: { S: 'Migration3.0' } }, ConsistentRead: true },
    ]);
  });

  it("takes the lease table's item (key `leaseKey`) when the CoordinatorState table does not exist or has none", async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).rejects(new ResourceNotFoundException({ message: 'no table', $metadata: {} }));
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({ Item: { leaseKey: { S: 'Migration3.0' }, cv: { S: 'CLIENT_VERSION_UPGRADE_FROM_2X' } } });
    expect(await readKclMigrationState(client, TABLES, ctx)).toEqual({
      state: { clientVersion: 'CLIENT_VERSION_UPGRADE_FROM_2X', mode: 'upgrading-from-2x', tableName: 'app' },
      missing: ['app-CoordinatorState'],
      unreadable: [],
    });

    dynamo.reset();
    dynamo.on(GetItemCommand).resolves({});
    expect(await readKclMigrationState(client, TABLES, ctx)).toEqual({ state: undefined, missing: [], unreadable: [] });
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(2);
  });

  it('reads only the lease table without a CoordinatorState table name', async () => {
    dynamo.on(GetItemCommand).resolves({});
    await readKclMigrationState(client, { leaseTableName: 'app' }, ctx);
    expect(dynamo.commandCalls(GetItemCommand).map((c) => c.args[0].input.TableName)).toEqual(['app']);
  });

  it('reports a table it could not read (AccessDeniedException, a wrong key schema, ...) and still uses the other', async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).rejects(awsError('AccessDeniedException'));
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({});
    expect(await readKclMigrationState(client, TABLES, ctx)).toEqual({
      state: undefined,
      missing: [],
      unreadable: [{ tableName: 'app-CoordinatorState', code: 'AccessDeniedException' }],
    });

    dynamo.reset();
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).rejects(awsError('ValidationException'));
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({ Item: { cv: { S: 'CLIENT_VERSION_3X' } } });
    expect(await readKclMigrationState(client, TABLES, ctx)).toEqual({
      state: { clientVersion: 'CLIENT_VERSION_3X', mode: 'kcl-3x', tableName: 'app' },
      missing: [],
      unreadable: [{ tableName: 'app-CoordinatorState', code: 'ValidationException' }],
    });
  });

  it('throws only an abort', async () => {
    dynamo.on(GetItemCommand).resolves({});
    const stopped = new AbortController();
    stopped.abort();
    await expect(readKclMigrationState(client, TABLES, { ...ctx, signal: stopped.signal })).rejects.toSatisfy(isAbortError);
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(0);
  });
});
