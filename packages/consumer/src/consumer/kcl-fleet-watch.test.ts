import { DynamoDBClient, GetItemCommand, ResourceNotFoundException, ScanCommand, type TableDescription } from '@aws-sdk/client-dynamodb';
import { ManualClock } from '@kinesis-kit/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capturingLogger } from '../capturing-logger.test-helpers.js';
import type { KclMigrationStateEvent } from './events.js';
import type { KclWorkerReport } from '../leases/kcl-worker-metrics.js';
import { KclFleetWatch } from './kcl-fleet-watch.js';

/**
 * Error paths and pass counting, with errors no local server produces (AccessDeniedException); the
 * reads themselves run against the mock in kcl-migration-state.mock.test.ts.
 */
const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const dynamo = mockClient(client);
afterEach(() => dynamo.reset());
// Whatever a test does not set: an empty WorkerMetricStats table.
beforeEach(() => dynamo.on(ScanCommand).resolves({ Items: [] }));

const WITH_INDEX: TableDescription = { TableName: 'app', GlobalSecondaryIndexes: [{ IndexName: 'LeaseOwnerToLeaseKeyIndex' }] };
const WITHOUT_INDEX: TableDescription = { TableName: 'app' };
const live = (): AbortSignal => new AbortController().signal;

function awsError(name: string): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 } });
}

function watchOf(table: { current: TableDescription } = { current: WITH_INDEX }, leaseTableReports: KclWorkerReport[] | undefined = undefined) {
  const { logger, warnings, infos } = capturingLogger();
  const events: KclMigrationStateEvent[] = [];
  const described = { count: 0 };
  const watch = new KclFleetWatch({
    client,
    applicationName: 'app',
    leaseTableName: 'app',
    describeLeaseTable: () => {
      described.count += 1;
      return Promise.resolve(table.current);
    },
    leaseTableWorkerReports: () => leaseTableReports,
    clock,
    random: () => 0,
    logger,
    emit: (e) => events.push(e),
  });
  return { watch, warnings, infos, events, described };
}

const clock = new ManualClock({ wallStart: 1_764_000_000_000 });
const tablesScanned = (): (string | undefined)[] => dynamo.commandCalls(ScanCommand).map((c) => c.args[0].input.TableName);
const tablesRead = (): (string | undefined)[] => dynamo.commandCalls(GetItemCommand).map((c) => c.args[0].input.TableName);

describe('KclFleetWatch', () => {
  it('warns once per table and error code it cannot read, and looks at a forbidden CoordinatorState table only every 10th pass', async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).rejects(awsError('AccessDeniedException'));
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({});
    const { watch, warnings, events } = watchOf();
    await watch.checkAtStart(WITH_INDEX, live());
    expect(tablesRead()).toEqual(['app-CoordinatorState', 'app']);
    for (let pass = 1; pass <= 10; pass++) await watch.recheck(live());
    // Passes 1-9 read the lease table only; pass 10 both again.
    expect(tablesRead().filter((t) => t === 'app')).toHaveLength(11);
    expect(tablesRead().filter((t) => t === 'app-CoordinatorState')).toHaveLength(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^the lease table has the index KCL 3\.x creates, but its migration state could not be read/);
    expect(events).toEqual([]);
  });

  it('looks at a missing CoordinatorState table only every 10th pass, silently', async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).rejects(new ResourceNotFoundException({ message: 'no table', $metadata: {} }));
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({ Item: { cv: { S: 'CLIENT_VERSION_UPGRADE_FROM_2X' } } });
    const { watch, warnings, events } = watchOf();
    await watch.checkAtStart(WITH_INDEX, live());
    for (let pass = 1; pass <= 9; pass++) await watch.recheck(live());
    expect(tablesRead().filter((t) => t === 'app-CoordinatorState')).toHaveLength(1);
    expect(warnings).toEqual([expect.stringMatching(/^KCL 3\.x workers in 2\.x-compatible mode/)]);
    expect(events).toHaveLength(1);
  });

  it('a table it cannot read does not hide the other: the state is reported, the unreadable table named once', async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).rejects(awsError('ValidationException'));
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({ Item: { cv: { S: 'CLIENT_VERSION_3X_WITH_ROLLBACK' } } });
    const { watch, warnings, events } = watchOf();
    await expect(watch.checkAtStart(WITH_INDEX, live())).resolves.toBeUndefined();
    await watch.recheck(live());
    expect(events).toEqual([{ clientVersion: 'CLIENT_VERSION_3X_WITH_ROLLBACK', mode: 'kcl-3x', tableName: 'app' }]);
    expect(warnings).toEqual([
      'a table that may hold the KCL 3.x migration state could not be read; the state reported comes from the other one',
      expect.stringMatching(/^a KCL 3\.x fleet ran this lease table in 3\.x mode.*with the KCL 3\.5\+ migration tool/),
    ]);
  });

  it('without the index at start: no reads, one DescribeTable every 10th pass, and a fleet that appears later is reported', async () => {
    dynamo.on(GetItemCommand).resolves({ Item: { cv: { S: 'CLIENT_VERSION_3X' } } });
    const table = { current: WITHOUT_INDEX };
    const { watch, events, described } = watchOf(table);
    await watch.checkAtStart(WITHOUT_INDEX, live());
    for (let pass = 1; pass <= 19; pass++) await watch.recheck(live());
    expect(described.count).toBe(1);
    expect(tablesRead()).toEqual([]);
    table.current = WITH_INDEX; // a KCL 3.x worker created it
    await watch.recheck(live()); // pass 20
    expect(described.count).toBe(2);
    expect(events).toEqual([{ clientVersion: 'CLIENT_VERSION_3X', mode: 'kcl-3x', tableName: 'app-CoordinatorState' }]);
  });

  it('reads nothing once stopping', async () => {
    dynamo.on(GetItemCommand).resolves({});
    const { watch } = watchOf();
    await watch.checkAtStart(WITH_INDEX, live());
    dynamo.resetHistory();
    const stopped = new AbortController();
    stopped.abort();
    await watch.recheck(stopped.signal);
    expect(tablesRead()).toEqual([]);
  });
  it('a forbidden WorkerMetricStats table: warned once, the fleet reported as not known to be stopped, looked at every 10th pass', async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).resolves({ Item: { cv: { S: 'CLIENT_VERSION_3X' } } });
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({});
    dynamo.on(ScanCommand, { TableName: 'app-WorkerMetricStats' }).rejects(awsError('AccessDeniedException'));
    const { watch, warnings, events } = watchOf(undefined, []);
    await watch.checkAtStart(WITH_INDEX, live());
    for (let pass = 1; pass <= 10; pass++) await watch.recheck(live());
    expect(tablesScanned()).toEqual(['app-WorkerMetricStats', 'app-WorkerMetricStats']);
    expect(events).toEqual([{ clientVersion: 'CLIENT_VERSION_3X', mode: 'kcl-3x', tableName: 'app-CoordinatorState' }]);
    expect(warnings).toEqual([
      'the KCL 3.x worker-metrics table could not be read: whether the Java workers run is not known',
      expect.stringMatching(/^a KCL 3\.x fleet ran this lease table in 3\.x mode\. While its workers run/),
    ]);
  });

  it('counts a worker as running while its last report is at most 60 s old, as the KCL does', async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).rejects(new ResourceNotFoundException({ message: 'no table', $metadata: {} }));
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({ Item: { cv: { S: 'CLIENT_VERSION_UPGRADE_FROM_2X' } } });
    const reports: KclWorkerReport[] = [{ workerId: 'java-1', reportedAt: clock.now() - 30_000 }];
    const { watch, warnings, infos, events } = watchOf(undefined, reports);
    await watch.checkAtStart(WITH_INDEX, live());
    await clock.advance(30_000); // 60 s old: still running
    await watch.recheck(live());
    await clock.advance(1_000);
    await watch.recheck(live());
    expect(events.map((e) => e.liveKclWorkers)).toEqual([1, 0]);
    expect(events[1]).toEqual({ clientVersion: 'CLIENT_VERSION_UPGRADE_FROM_2X', mode: 'upgrading-from-2x', tableName: 'app', liveKclWorkers: 0, lastKclWorkerReportAt: reports[0]!.reportedAt });
    expect(warnings).toEqual([expect.stringMatching(/^KCL 3\.x workers in 2\.x-compatible mode share this lease table\. 1 of its workers reported/)]);
    expect(infos).toEqual([expect.stringMatching(/^KCL 3\.x workers in 2\.x-compatible mode used this lease table; none of its workers has reported/)]);
    // The lease-table layout: no WorkerMetricStats table is read.
    expect(tablesScanned()).toEqual([]);
  });
  it('a missing WorkerMetricStats table (a KCL 3.5 fleet reports into the lease table): the lease table decides, the table looked at every 10th pass', async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).resolves({ Item: { cv: { S: 'CLIENT_VERSION_3X' } } });
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({});
    dynamo.on(ScanCommand, { TableName: 'app-WorkerMetricStats' }).rejects(new ResourceNotFoundException({ message: 'no table', $metadata: {} }));
    const { watch, warnings, infos, events } = watchOf(undefined, [{ workerId: 'java-1', reportedAt: clock.now() - 3_600_000 }]);
    await watch.checkAtStart(WITH_INDEX, live());
    for (let pass = 1; pass <= 10; pass++) await watch.recheck(live());
    expect(tablesScanned()).toEqual(['app-WorkerMetricStats', 'app-WorkerMetricStats']);
    expect(events).toEqual([
      { clientVersion: 'CLIENT_VERSION_3X', mode: 'kcl-3x', tableName: 'app-CoordinatorState', liveKclWorkers: 0, lastKclWorkerReportAt: clock.now() - 3_600_000 },
    ]);
    expect(warnings).toEqual([]);
    expect(infos).toEqual([expect.stringMatching(/^a KCL 3\.x fleet ran this lease table in 3\.x mode; none of its workers has reported/)]);
  });
  it('a liveness read that fails after a good one reports nothing new (what was reported stands)', async () => {
    dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).resolves({ Item: { cv: { S: 'CLIENT_VERSION_3X' } } });
    dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({});
    dynamo
      .on(ScanCommand, { TableName: 'app-WorkerMetricStats' })
      .resolvesOnce({ Items: [{ wid: { S: 'java-1' }, lut: { N: String(Math.floor(clock.now() / 1000)) } }] })
      .rejects(awsError('AccessDeniedException'));
    const { watch, warnings, events } = watchOf(undefined, []);
    await watch.checkAtStart(WITH_INDEX, live());
    await watch.recheck(live());
    expect(events.map((e) => e.liveKclWorkers)).toEqual([1]);
    expect(warnings).toEqual([
      expect.stringMatching(/^a KCL 3\.x fleet ran this lease table in 3\.x mode\. 1 of its workers reported/),
      'the KCL 3.x worker-metrics table could not be read: whether the Java workers run is not known',
    ]);
  });
});
