import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ManualClock, type Logger } from '@kinesis-kit/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { KclMigrationStateEvent } from './events.js';
import { KclFleetWatch } from './kcl-fleet-watch.js';

/** Error paths only: the reads themselves run against the mock in kcl-migration-state.mock.test.ts. */
const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const dynamo = mockClient(client);
afterEach(() => dynamo.reset());

const WITH_INDEX = { TableName: 'app', GlobalSecondaryIndexes: [{ IndexName: 'LeaseOwnerToLeaseKeyIndex' }] };

function awsError(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

function watchOf(): { watch: KclFleetWatch; warnings: string[]; events: KclMigrationStateEvent[] } {
  const warnings: string[] = [];
  const events: KclMigrationStateEvent[] = [];
  const noop = (): void => {};
  const logger: Logger = { debug: noop, info: noop, error: noop, warn: (_f, message) => warnings.push(message ?? '') };
  const clock = new ManualClock();
  const watch = new KclFleetWatch({ client, applicationName: 'app', leaseTableName: 'app', clock, random: () => 0, logger, emit: (e) => events.push(e) });
  return { watch, warnings, events };
}

describe('KclFleetWatch', () => {
  it('warns once when the index is there but the CoordinatorState table may not be read and the lease table has no item', async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).rejects(awsError('AccessDeniedException', 400));
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({});
    const { watch, warnings, events } = watchOf();
    await watch.checkAtStart(WITH_INDEX, new AbortController().signal);
    await watch.recheck(new AbortController().signal);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^the lease table has the index KCL 3\.x creates, but its migration state could not be read/);
    expect(events).toEqual([]);
  });

  it('a failed read is logged, never thrown, and tried again at the next pass', async () => {
    dynamo.on(GetItemCommand).rejects(awsError('ValidationException', 400));
    const { watch, warnings, events } = watchOf();
    await expect(watch.checkAtStart(WITH_INDEX, new AbortController().signal)).resolves.toBeUndefined();
    expect(warnings).toEqual(['could not read the KCL 3.x migration state; tried again at the next shard sync']);
    dynamo.reset();
    dynamo.on(GetItemCommand).resolves({ Item: { cv: { S: 'CLIENT_VERSION_3X' } } });
    await watch.recheck(new AbortController().signal);
    expect(events).toEqual([{ clientVersion: 'CLIENT_VERSION_3X', mode: 'kcl-3x', tableName: 'app-CoordinatorState' }]);
  });

  it('reads nothing without the index, nor when stopping', async () => {
    const { watch, events } = watchOf();
    await watch.checkAtStart({ TableName: 'app' }, new AbortController().signal);
    await watch.recheck(new AbortController().signal);
    const stopped = new AbortController();
    stopped.abort();
    const indexed = watchOf().watch;
    await indexed.recheck(stopped.signal);
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(0);
    expect(events).toEqual([]);
  });
});
