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

/** `leaseTableReports`: the worker-metrics items of a lease-table scan made `scannedAgoMillis` before each look (undefined: no scan yet). */
function watchOf(table: { current: TableDescription } = { current: WITH_INDEX }, leaseTableReports?: KclWorkerReport[], scannedAgoMillis = 0) {
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
    leaseTableWorkerReports: () => (leaseTableReports === undefined ? undefined : { scannedAt: clock.now() - scannedAgoMillis, reports: leaseTableReports }),
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
  describe('whether the Java workers run (their worker metrics)', () => {
    const inLeaseTable = (cv: string) => {
      dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).rejects(new ResourceNotFoundException({ message: 'no table', $metadata: {} }));
      dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({ Item: { cv: { S: cv } } });
    };
    const report = (workerId: string, ageMillis: number): KclWorkerReport => ({ workerId, reportedAt: clock.now() - ageMillis });
    const metricsItem = (wid: string, ageSeconds: number) => ({ wid: { S: wid }, lut: { N: String(Math.floor(clock.now() / 1000) - ageSeconds) } });

    it('a running worker in the lease table decides: the WorkerMetricStats table is not read', async () => {
      inLeaseTable('CLIENT_VERSION_3X');
      const { watch, warnings, events } = watchOf(undefined, [report('java-1', 10_000)]);
      await watch.checkAtStart(WITH_INDEX, live());
      expect(events).toEqual([{ clientVersion: 'CLIENT_VERSION_3X', mode: 'kcl-3x', tableName: 'app', liveKclWorkers: 1, lastKclWorkerReportAt: clock.now() - 10_000 }]);
      expect(warnings).toEqual([expect.stringMatching(/^a KCL 3\.x fleet ran this lease table in 3\.x mode\. 1 of its workers reported/)]);
      expect(tablesScanned()).toEqual([]);
    });

    it('the item in the lease table, the workers reporting into WorkerMetricStats (a KCL 3.5 table migration rolled back): running', async () => {
      inLeaseTable('CLIENT_VERSION_3X_WITH_ROLLBACK');
      dynamo.on(ScanCommand, { TableName: 'app-WorkerMetricStats' }).resolves({ Items: [metricsItem('java-1', 5), metricsItem('java-2', 3600)] });
      const { watch, events } = watchOf(undefined, [report('java-1', 3_600_000)]);
      await watch.checkAtStart(WITH_INDEX, live());
      expect(events.map((e) => e.liveKclWorkers)).toEqual([1]);
      expect(tablesScanned()).toEqual(['app-WorkerMetricStats']);
    });

    it('counts a worker as running while its last report is at most 60 s old, as the KCL does; "stopped" after "running" takes two checks in a row', async () => {
      inLeaseTable('CLIENT_VERSION_UPGRADE_FROM_2X');
      const reports = [report('java-1', 30_000)];
      const { watch, warnings, infos, events } = watchOf(undefined, reports);
      await watch.checkAtStart(WITH_INDEX, live());
      await clock.advance(30_000); // 60 s old: still running
      await watch.recheck(live());
      await clock.advance(1_000);
      await watch.recheck(live()); // none running: not reported yet
      expect(events.map((e) => e.liveKclWorkers)).toEqual([1]);
      await watch.recheck(live());
      expect(events.map((e) => e.liveKclWorkers)).toEqual([1, 0]);
      expect(events[1]).toEqual({ clientVersion: 'CLIENT_VERSION_UPGRADE_FROM_2X', mode: 'upgrading-from-2x', tableName: 'app', liveKclWorkers: 0, lastKclWorkerReportAt: reports[0]!.reportedAt });
      expect(warnings).toEqual([expect.stringMatching(/^KCL 3\.x workers in 2\.x-compatible mode share this lease table\. 1 of its workers reported/)]);
      expect(infos).toEqual([expect.stringMatching(/^KCL 3\.x workers in 2\.x-compatible mode used this lease table; none of its workers has reported/)]);
    });

    it('a worker seen running again between two "stopped" checks cancels the first', async () => {
      inLeaseTable('CLIENT_VERSION_3X');
      const reports = [report('java-1', 0)];
      const { watch, events } = watchOf(undefined, reports);
      await watch.checkAtStart(WITH_INDEX, live());
      await clock.advance(61_000);
      await watch.recheck(live()); // stopped, once
      reports[0] = report('java-1', 0);
      await watch.recheck(live()); // running again
      await clock.advance(61_000);
      await watch.recheck(live()); // stopped, once again
      expect(events.map((e) => e.liveKclWorkers)).toEqual([1]);
    });

    it('a stopped fleet at start is reported at once, as an info line', async () => {
      inLeaseTable('CLIENT_VERSION_3X');
      const { watch, warnings, infos, events } = watchOf(undefined, [report('java-1', 3_600_000)]);
      await watch.checkAtStart(WITH_INDEX, live());
      expect(events).toEqual([{ clientVersion: 'CLIENT_VERSION_3X', mode: 'kcl-3x', tableName: 'app', liveKclWorkers: 0, lastKclWorkerReportAt: clock.now() - 3_600_000 }]);
      expect(warnings).toEqual([]);
      expect(infos).toEqual([expect.stringMatching(/^a KCL 3\.x fleet ran this lease table in 3\.x mode; none of its workers has reported/)]);
    });

    it('reports from a lease-table scan older than 60 s are not used (they could call a running fleet stopped)', async () => {
      inLeaseTable('CLIENT_VERSION_3X');
      const { watch, warnings, events } = watchOf(undefined, [report('java-1', 90_000)], 90_000);
      await watch.checkAtStart(WITH_INDEX, live());
      expect(events).toEqual([{ clientVersion: 'CLIENT_VERSION_3X', mode: 'kcl-3x', tableName: 'app' }]);
      expect(warnings).toEqual([expect.stringMatching(/^a KCL 3\.x fleet ran this lease table in 3\.x mode\. While its workers run/)]);
    });

    it('no report anywhere: not known (the metrics may be in a table with another name)', async () => {
      inLeaseTable('CLIENT_VERSION_3X');
      const { watch, events } = watchOf(undefined, []);
      await watch.checkAtStart(WITH_INDEX, live());
      expect(events).toEqual([{ clientVersion: 'CLIENT_VERSION_3X', mode: 'kcl-3x', tableName: 'app' }]);
    });

    it('a forbidden WorkerMetricStats table: warned once, not known to be stopped, looked at every 10th pass', async () => {
      inLeaseTable('CLIENT_VERSION_3X');
      dynamo.on(ScanCommand, { TableName: 'app-WorkerMetricStats' }).rejects(awsError('AccessDeniedException'));
      const { watch, warnings, events } = watchOf(undefined, [report('java-1', 3_600_000)]);
      await watch.checkAtStart(WITH_INDEX, live());
      for (let pass = 1; pass <= 10; pass++) await watch.recheck(live());
      expect(tablesScanned()).toEqual(['app-WorkerMetricStats', 'app-WorkerMetricStats']);
      expect(events).toEqual([{ clientVersion: 'CLIENT_VERSION_3X', mode: 'kcl-3x', tableName: 'app' }]);
      expect(warnings).toEqual([
        'the KCL 3.x worker-metrics table could not be read: whether the Java workers run is not known',
        expect.stringMatching(/^a KCL 3\.x fleet ran this lease table in 3\.x mode\. While its workers run/),
      ]);
    });

    it('a missing WorkerMetricStats table (a fleet that reports into the lease table): the lease table decides, the table looked at every 10th pass', async () => {
      dynamo.on(GetItemCommand, { TableName: 'app-CoordinatorState' }).resolves({ Item: { cv: { S: 'CLIENT_VERSION_3X' } } });
      dynamo.on(GetItemCommand, { TableName: 'app' }).resolves({});
      dynamo.on(ScanCommand, { TableName: 'app-WorkerMetricStats' }).rejects(new ResourceNotFoundException({ message: 'no table', $metadata: {} }));
      const { watch, warnings, infos, events } = watchOf(undefined, [report('java-1', 3_600_000)]);
      await watch.checkAtStart(WITH_INDEX, live());
      for (let pass = 1; pass <= 10; pass++) await watch.recheck(live());
      expect(tablesScanned()).toEqual(['app-WorkerMetricStats', 'app-WorkerMetricStats']);
      expect(events).toEqual([
        { clientVersion: 'CLIENT_VERSION_3X', mode: 'kcl-3x', tableName: 'app-CoordinatorState', liveKclWorkers: 0, lastKclWorkerReportAt: clock.now() - 3_600_000 },
      ]);
      expect(warnings).toEqual([]);
      expect(infos).toHaveLength(1);
    });

    it('another failure of the WorkerMetricStats table is tried again at the next pass', async () => {
      inLeaseTable('CLIENT_VERSION_3X');
      dynamo.on(ScanCommand, { TableName: 'app-WorkerMetricStats' }).rejects(awsError('ValidationException'));
      const { watch, warnings } = watchOf(undefined, []);
      await watch.checkAtStart(WITH_INDEX, live());
      for (let pass = 1; pass <= 3; pass++) await watch.recheck(live());
      expect(tablesScanned()).toHaveLength(4);
      expect(warnings.filter((w) => w.startsWith('the KCL 3.x worker-metrics table could not be read'))).toHaveLength(1);
    });

    it('a running worker in the lease table counts even with the WorkerMetricStats table unreadable', async () => {
      inLeaseTable('CLIENT_VERSION_3X');
      dynamo.on(ScanCommand, { TableName: 'app-WorkerMetricStats' }).resolvesOnce({ Items: [] }).rejects(awsError('AccessDeniedException'));
      const reports = [report('java-1', 3_600_000)];
      const { watch, events } = watchOf(undefined, reports);
      await watch.checkAtStart(WITH_INDEX, live()); // stopped
      await watch.recheck(live()); // the table forbidden: not known, nothing new
      reports.push(report('java-2', 0));
      await watch.recheck(live());
      expect(events.map((e) => e.liveKclWorkers)).toEqual([0, 1]);
    });

    it('a liveness read that fails after a good one reports nothing new (what was reported stands)', async () => {
      inLeaseTable('CLIENT_VERSION_3X');
      dynamo
        .on(ScanCommand, { TableName: 'app-WorkerMetricStats' })
        .resolvesOnce({ Items: [metricsItem('java-1', 0)] })
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

    it('stop() during the WorkerMetricStats read: the check returns quietly', async () => {
      inLeaseTable('CLIENT_VERSION_3X');
      const stopping = new AbortController();
      dynamo.on(ScanCommand, { TableName: 'app-WorkerMetricStats' }).callsFake(() => {
        stopping.abort();
        const err = new Error('aborted');
        err.name = 'AbortError';
        return Promise.reject(err);
      });
      const { watch, warnings, events } = watchOf(undefined, []);
      await expect(watch.checkAtStart(WITH_INDEX, stopping.signal)).resolves.toBeUndefined();
      expect(events).toEqual([]);
      expect(warnings).toEqual([]);
    });
  });
});
