import { describe, expect, it } from 'vitest';
import {
  KCL_WORKER_ACTIVE_MILLIS,
  kclWorkerLiveness,
  kclWorkerMetricsTableName,
  kclWorkerReportOf,
  readKclFleetLiveness,
  type KclWorkerMetricsTableRead,
} from './kcl-worker-metrics.js';

describe('kclWorkerReportOf', () => {
  it('reads a KCL 3.5 lease-table item (entityType WORKER_METRIC_STATS, keyed leaseKey); lut is epoch seconds', () => {
    expect(kclWorkerReportOf({ leaseKey: { S: 'java-1' }, entityType: { S: 'WORKER_METRIC_STATS' }, lut: { N: '1764000000' }, sts: { M: {} } })).toEqual({
      workerId: 'java-1',
      reportedAt: 1_764_000_000_000,
    });
  });

  it('reads a WorkerMetricStats-table item (keyed wid), with or without the entityType KCL 3.5 adds', () => {
    expect(kclWorkerReportOf({ wid: { S: 'java-2' }, lut: { N: '10' } })).toEqual({ workerId: 'java-2', reportedAt: 10_000 });
    expect(kclWorkerReportOf({ wid: { S: 'java-2' }, entityType: { S: 'WORKER_METRIC_STATS' }, lut: { N: '10' } })).toEqual({ workerId: 'java-2', reportedAt: 10_000 });
  });

  it('ignores leases, other KCL items, and items without a numeric lut', () => {
    expect(kclWorkerReportOf({ leaseKey: { S: 'shardId-000000000000' }, leaseCounter: { N: '3' }, leaseOwner: { S: 'w' } })).toBeUndefined();
    expect(kclWorkerReportOf({ leaseKey: { S: 'shardId-000000000000' }, entityType: { S: 'LEASE' }, lut: { N: '10' } })).toBeUndefined();
    expect(kclWorkerReportOf({ leaseKey: { S: 'Migration3.0' }, entityType: { S: 'CLIENT_VERSION_MIGRATION' }, cv: { S: 'CLIENT_VERSION_3X' } })).toBeUndefined();
    expect(kclWorkerReportOf({ leaseKey: { S: 'java-1' }, entityType: { S: 'WORKER_METRIC_STATS' } })).toBeUndefined();
    expect(kclWorkerReportOf({ wid: { S: 'java-1' }, lut: { N: 'soon' } })).toBeUndefined();
    expect(kclWorkerReportOf({ wid: { S: 'java-1' }, lut: { S: '10' } })).toBeUndefined();
  });
});

describe('kclWorkerLiveness', () => {
  const now = 1_764_000_000_000;

  it('counts the workers whose last report is at most 60 s old, and gives the newest report', () => {
    const reports = [
      { workerId: 'a', reportedAt: now - KCL_WORKER_ACTIVE_MILLIS },
      { workerId: 'b', reportedAt: now - KCL_WORKER_ACTIVE_MILLIS - 1_000 },
      { workerId: 'c', reportedAt: now - 5_000 },
    ];
    expect(kclWorkerLiveness(reports, now)).toEqual({ live: 2, lastReportAt: now - 5_000 });
    expect(kclWorkerLiveness(reports, now + 56_000)).toEqual({ live: 0, lastReportAt: now - 5_000 });
  });

  it('no reports: none running, no last report', () => {
    expect(kclWorkerLiveness([], now)).toEqual({ live: 0 });
  });
});

describe('kclWorkerMetricsTableName', () => {
  it('is <applicationName>-WorkerMetricStats, as the KCL names it', () => {
    expect(kclWorkerMetricsTableName('orders-app')).toBe('orders-app-WorkerMetricStats');
  });
});

describe('readKclFleetLiveness', () => {
  const now = 1_764_000_000_000;
  const clock = () => now;
  const running = { workerId: 'java-1', reportedAt: now - 10_000 };
  const stopped = { workerId: 'java-2', reportedAt: now - 3_600_000 };
  const table = (read: KclWorkerMetricsTableRead) => {
    const calls = { count: 0 };
    return { calls, read: () => ((calls.count += 1), Promise.resolve(read)) };
  };

  it('a running worker in the lease table: running, the WorkerMetricStats table not read', async () => {
    const metrics = table({ reports: [] });
    expect(await readKclFleetLiveness([running, stopped], metrics.read, clock)).toEqual({ liveness: { live: 1, lastReportAt: running.reportedAt } });
    expect(metrics.calls.count).toBe(0);
  });

  it('none running in the lease table: the WorkerMetricStats table is read and merged', async () => {
    expect(await readKclFleetLiveness([stopped], table({ reports: [running] }).read, clock)).toEqual({
      liveness: { live: 1, lastReportAt: running.reportedAt },
      workerMetricsTable: { reports: [running] },
    });
    expect((await readKclFleetLiveness([stopped], table({ missing: true }).read, clock)).liveness).toEqual({ live: 0, lastReportAt: stopped.reportedAt });
  });

  it('"none runs" needs a report found and no unreadable table; otherwise not known', async () => {
    expect((await readKclFleetLiveness([], table({ missing: true }).read, clock)).liveness).toBeUndefined();
    expect((await readKclFleetLiveness(undefined, table({ reports: [] }).read, clock)).liveness).toBeUndefined();
    expect((await readKclFleetLiveness([stopped], table({ unreadable: 'AccessDeniedException' }).read, clock)).liveness).toBeUndefined();
  });
});
