import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { isAbortError, silentLogger, systemClock } from '@kinesis-kit/core';
import { awsCodeOf, isResourceNotFound, scanAllItems, type CallContext, type CallOptions } from './dynamodb-call.js';

/**
 * KCL 3.x workers in 3.x mode and in the 2.x-compatible upgrade mode publish worker metrics (every
 * 30 s by default): one item per worker whose `lut` is the wall time of its last report, in epoch
 * seconds. A KCL 3.5 worker writes them into the lease table (`entityType = WORKER_METRIC_STATS`,
 * `leaseKey` = the worker id) once its table migration is under way or when there was never a
 * CoordinatorState table; otherwise, and with KCL 3.0–3.4, into `<applicationName>-WorkerMetricStats`
 * (key `wid`). Where the `Migration3.0` item is does not tell which (the item moves into the lease
 * table and stays there if the migration is rolled back), so both are looked at, as the KCL itself
 * merges them. Items stay when a worker stops; only `lut` ages. KCL 2.x workers, 3.x workers rolled
 * back to 2.x, and kinesis-kit publish none. The KCL counts a worker as active while its `lut` is
 * at most 60 s old (twice the default period); so do we, to tell a running Java fleet from a stopped one.
 */
export const KCL_WORKER_METRICS_ENTITY_TYPE = 'WORKER_METRIC_STATS';

/** The KCL's "active worker metrics" window: twice its default 30 s reporting period. */
export const KCL_WORKER_ACTIVE_MILLIS = 60_000;

/** One worker's last metrics report. */
export interface KclWorkerReport {
  workerId: string;
  /** `lut` in epoch milliseconds. */
  reportedAt: number;
}

/** What the KCL workers' reports say at a given time. */
export interface KclWorkerLiveness {
  /** Workers whose last report is at most KCL_WORKER_ACTIVE_MILLIS old. */
  live: number;
  /** The newest report, epoch milliseconds; absent when there is none. */
  lastReportAt?: number;
}

/** Where KCL 3.0–3.4 (and 3.5 workers whose table migration is not under way) keep worker metrics, unless configured otherwise (not supported here). */
export function kclWorkerMetricsTableName(applicationName: string): string {
  return `${applicationName}-WorkerMetricStats`;
}

/**
 * The report in a worker-metrics item: a lease-table item of `entityType` WORKER_METRIC_STATS
 * (keyed `leaseKey`) or an item of the WorkerMetricStats table (keyed `wid`); undefined for any
 * other item (a lease has no `entityType` or `LEASE`, and no `wid`), or one without a numeric `lut`.
 */
export function kclWorkerReportOf(item: Record<string, AttributeValue>): KclWorkerReport | undefined {
  const entityType = item.entityType?.S;
  // KCL 3.5 writes entityType into both layouts; 3.0-3.4 wrote none into the WorkerMetricStats table.
  if (entityType !== undefined && entityType !== KCL_WORKER_METRICS_ENTITY_TYPE) return undefined;
  const workerId = item.leaseKey?.S ?? item.wid?.S;
  const seconds = Number(item.lut?.N);
  if (workerId === undefined || item.lut?.N === undefined || !Number.isFinite(seconds)) return undefined;
  return { workerId, reportedAt: seconds * 1000 };
}

/** How many of the reports are at most KCL_WORKER_ACTIVE_MILLIS old at `now` (wall clock, epoch ms), and the newest. */
export function kclWorkerLiveness(reports: readonly KclWorkerReport[], now: number): KclWorkerLiveness {
  let live = 0;
  let lastReportAt: number | undefined;
  for (const { reportedAt } of reports) {
    if (now - reportedAt <= KCL_WORKER_ACTIVE_MILLIS) live++;
    if (lastReportAt === undefined || reportedAt > lastReportAt) lastReportAt = reportedAt;
  }
  return lastReportAt === undefined ? { live } : { live, lastReportAt };
}

export type KclWorkerMetricsTableRead =
  | { reports: KclWorkerReport[] }
  | { missing: true }
  | { unreadable: string | undefined };

export interface KclFleetLivenessRead {
  /** Undefined when not known: no report found anywhere, or a table that may hold them unreadable and none running. */
  liveness: KclWorkerLiveness | undefined;
  /** What reading the WorkerMetricStats table gave, when it was needed (no running worker in the lease table). */
  workerMetricsTable?: KclWorkerMetricsTableRead;
}

/**
 * Whether a KCL 3.x fleet's workers run, from both places their metrics may be: the lease table's
 * items (`leaseTableReports`, from a recent scan; undefined when there is none) and, only when those
 * show no running worker, the WorkerMetricStats table (`readWorkerMetricsTable`). "None runs" needs
 * at least one report found and no unreadable table: no report at all means the metrics are where
 * we do not look (a table with another name) or were never written.
 */
export async function readKclFleetLiveness(
  leaseTableReports: readonly KclWorkerReport[] | undefined,
  readWorkerMetricsTable: () => Promise<KclWorkerMetricsTableRead>,
  now: () => number,
): Promise<KclFleetLivenessRead> {
  const inLeaseTable = kclWorkerLiveness(leaseTableReports ?? [], now());
  if (inLeaseTable.live > 0) return { liveness: inLeaseTable };
  const workerMetricsTable = await readWorkerMetricsTable();
  const reports = 'reports' in workerMetricsTable ? [...(leaseTableReports ?? []), ...workerMetricsTable.reports] : (leaseTableReports ?? []);
  const liveness = kclWorkerLiveness(reports, now());
  // A running worker here was read from the WorkerMetricStats table, so it was readable.
  const known = liveness.lastReportAt !== undefined && !('unreadable' in workerMetricsTable);
  return { liveness: known ? liveness : undefined, workerMetricsTable };
}

/**
 * Scans a WorkerMetricStats table (one small item per KCL worker; only `wid` and `lut` are read).
 * A missing table or one that cannot be read is reported, never thrown; only an abort is thrown.
 * `pageSize` is the Scan's Limit (default: DynamoDB's 1 MB pages).
 */
export async function readKclWorkerMetricsTable(
  client: DynamoDBClient,
  tableName: string,
  options: CallOptions & Partial<Pick<CallContext, 'clock' | 'random' | 'logger'>> & { pageSize?: number } = {},
): Promise<KclWorkerMetricsTableRead> {
  const ctx = { clock: options.clock ?? systemClock, random: options.random ?? Math.random, logger: options.logger ?? silentLogger, tableName };
  const input = { TableName: tableName, ProjectionExpression: 'wid, lut', ...(options.pageSize !== undefined ? { Limit: options.pageSize } : {}) };
  let items: Record<string, AttributeValue>[];
  try {
    items = await scanAllItems(client, input, ctx, options);
  } catch (err) {
    if (isAbortError(err) || options.signal?.aborted) throw err;
    if (isResourceNotFound(err)) return { missing: true };
    return { unreadable: awsCodeOf(err) };
  }
  return { reports: items.flatMap((item) => kclWorkerReportOf(item) ?? []) };
}
