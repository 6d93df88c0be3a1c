import type { DynamoDBClient, TableDescription } from '@aws-sdk/client-dynamodb';
import { errorFields, isAbortError, type Clock, type Logger } from '@kinesis-kit/core';
import {
  hasKclLeaseOwnerIndex,
  KCL_LEASE_OWNER_INDEX,
  kclCoordinatorStateTableName,
  readKclMigrationState,
  type KclMigrationStateRead,
} from '../leases/kcl-migration-state.js';
import {
  KCL_WORKER_ACTIVE_MILLIS,
  kclWorkerMetricsTableName,
  readKclFleetLiveness,
  readKclWorkerMetricsTable,
  type KclWorkerLiveness,
  type KclWorkerMetricsTableRead,
} from '../leases/kcl-worker-metrics.js';
import type { KclWorkerReportsSeen } from '../leases/lease-table.js';
import type { KclMigrationStateEvent } from './events.js';

export interface KclFleetWatchOptions {
  client: DynamoDBClient;
  applicationName: string;
  leaseTableName: string;
  /** DescribeTable of the lease table (undefined when it is gone). */
  describeLeaseTable: (signal: AbortSignal) => Promise<TableDescription | undefined>;
  /** The KCL worker-metrics items the latest lease-table scan saw (LeaseTable.kclWorkerReports). */
  leaseTableWorkerReports: () => KclWorkerReportsSeen | undefined;
  clock: Clock;
  random: () => number;
  logger: Logger;
  emit: (event: KclMigrationStateEvent) => void;
}

/**
 * Passes between looks at what is rarely there: the KCL 3.x index while it is absent (a
 * DescribeTable), and a CoordinatorState or WorkerMetricStats table found missing or forbidden
 * (the KCL itself looks for the first once, at start-up; under an IAM policy for the lease table
 * only, every read of them would be a denied request in CloudTrail). At the default shard sync
 * interval, every 10 minutes.
 */
const RARE_LOOK_EVERY_PASSES = 10;

/** Whether the fleet's Java workers run, by their worker metrics. */
type FleetRunning = 'running' | 'stopped' | 'unknown';

/**
 * Watches for a KCL 3.x fleet on the lease table, and says so when the algorithm it runs is one
 * our 2.x lease protocol does not mix with. We take and steal leases as a KCL 2.x worker does; a
 * 3.x-mode fleet assigns leases from a leader, to workers that publish worker metrics (we never
 * do), and a fleet in the 2.x-compatible upgrade mode switches itself to 3.x mode about 10 minutes
 * after every lease owner publishes them, i.e. once no kinesis-kit worker holds a lease.
 *
 * The migration item is read only while the lease table has the index those KCL 3.x modes create:
 * at start, then after every timed shard sync pass (the KCL's own workers look once a minute).
 * In those two modes the Java workers publish worker metrics, which tell a running fleet from a
 * stopped one (the item outlives the fleet): in the lease table, seen by our own scans at no extra
 * cost, or in the WorkerMetricStats table (a Scan of one small item per worker, made only when the
 * lease table shows no running worker). Reported (event and log) at start and whenever `cv`
 * changes, whether the workers run becomes known, or they start or stop running. Advisory: a
 * failed read is logged, never fails the consumer.
 */
export class KclFleetWatch {
  private watching = false;
  private passes = 0;
  /** Tables found missing or forbidden, and the pass from which they are looked at again. */
  private readonly rareLookFrom = new Map<string, number>();
  /** While skipped: what the last read of the WorkerMetricStats table gave (missing or forbidden). */
  private workerMetricsTableSkipped: KclWorkerMetricsTableRead = { missing: true };
  /** `cv` and whether its workers ran, as last reported. */
  private reported: { clientVersion: string; running: FleetRunning } | undefined;
  /** A check found no running worker after one was reported: reported as stopped if the next one agrees. */
  private stoppedOnce = false;
  /** `table code` pairs already warned about. */
  private readonly warnedUnreadable = new Set<string>();

  constructor(private readonly o: KclFleetWatchOptions) {}

  /** At start, with the lease table's description. */
  async checkAtStart(table: TableDescription, signal: AbortSignal): Promise<void> {
    this.watching = hasKclLeaseOwnerIndex(table);
    if (this.watching) await this.check(signal);
  }

  /** After a timed shard sync pass. */
  async recheck(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    this.passes += 1;
    if (!this.watching) {
      // A KCL 3.x fleet may join (or be rolled forward) after our start.
      if (this.passes % RARE_LOOK_EVERY_PASSES !== 0) return;
      try {
        this.watching = hasKclLeaseOwnerIndex(await this.o.describeLeaseTable(signal));
      } catch (err) {
        if (!isAbortError(err) && !signal.aborted) this.o.logger.debug(errorFields(err), 'could not describe the lease table; tried again later');
        return;
      }
      if (!this.watching) return;
    }
    await this.check(signal);
  }

  private async check(signal: AbortSignal): Promise<void> {
    const { o } = this;
    const coordinatorStateTableName = kclCoordinatorStateTableName(o.applicationName);
    const readCoordinatorState = this.isDue(coordinatorStateTableName);
    let read: KclMigrationStateRead;
    try {
      read = await readKclMigrationState(
        o.client,
        { leaseTableName: o.leaseTableName, coordinatorStateTableName: readCoordinatorState ? coordinatorStateTableName : undefined },
        { signal, clock: o.clock, random: o.random, logger: o.logger },
      );
    } catch (err) {
      if (!isAbortError(err) && !signal.aborted) o.logger.warn(errorFields(err), 'could not read the KCL 3.x migration state; tried again at the next shard sync');
      return;
    }
    const { state, missing, unreadable } = read;
    this.noteRead(coordinatorStateTableName, missing.includes(coordinatorStateTableName), unreadable.find((u) => u.tableName === coordinatorStateTableName)?.code);
    this.warnUnreadable(
      unreadable,
      state === undefined
        ? 'the lease table has the index KCL 3.x creates, but its migration state could not be read; if a KCL 3.x fleet in 3.x mode shares this table, this worker does not mix with it'
        : 'a table that may hold the KCL 3.x migration state could not be read; the state reported comes from the other one',
    );
    if (state === undefined) return;
    let liveness: KclWorkerLiveness | undefined;
    try {
      liveness = state.mode === 'kcl-3x' || state.mode === 'upgrading-from-2x' ? await this.readLiveness(signal) : undefined;
    } catch (err) {
      // Only an abort is thrown (stop()): nothing to report.
      if (isAbortError(err) || signal.aborted) return;
      throw err;
    }
    const running: FleetRunning = liveness === undefined ? 'unknown' : liveness.live > 0 ? 'running' : 'stopped';
    const previous = this.reported;
    const sameVersion = previous?.clientVersion === state.clientVersion;
    // "Stopped" after "running" only when two checks in a row say so: a fleet configured to report
    // less often than every 60 s would otherwise be reported as stopping and starting at every pass.
    const firstStopped = sameVersion && previous.running === 'running' && running === 'stopped' && !this.stoppedOnce;
    this.stoppedOnce = firstStopped;
    // A read that fails once does not undo what was reported.
    if (firstStopped || (sameVersion && (running === previous.running || running === 'unknown'))) return;
    this.reported = { clientVersion: state.clientVersion, running };
    const event: KclMigrationStateEvent = {
      ...state,
      ...(liveness !== undefined ? { liveKclWorkers: liveness.live } : {}),
      ...(liveness?.lastReportAt !== undefined ? { lastKclWorkerReportAt: liveness.lastReportAt } : {}),
      ...(previous !== undefined && !sameVersion ? { previousClientVersion: previous.clientVersion } : {}),
    };
    this.report(event, unreadable);
  }

  /**
   * Whether the fleet's Java workers run, from their worker metrics (readKclFleetLiveness): the
   * lease table's, from the latest scan if it is recent, then the WorkerMetricStats table's. That
   * table, once found missing or forbidden, is looked at every 10th pass only; another failure is
   * tried again at the next pass. Undefined when unknown.
   */
  private async readLiveness(signal: AbortSignal): Promise<KclWorkerLiveness | undefined> {
    const { o } = this;
    const seen = o.leaseTableWorkerReports();
    // Reports from a scan older than the window could call a running fleet stopped.
    const fresh = seen !== undefined && o.clock.now() - seen.scannedAt <= KCL_WORKER_ACTIVE_MILLIS ? seen.reports : undefined;
    const tableName = kclWorkerMetricsTableName(o.applicationName);
    const { liveness } = await readKclFleetLiveness(fresh, () => this.readWorkerMetricsTable(tableName, signal), () => o.clock.now());
    return liveness;
  }

  private async readWorkerMetricsTable(tableName: string, signal: AbortSignal): Promise<KclWorkerMetricsTableRead> {
    const { o } = this;
    if (!this.isDue(tableName)) return this.workerMetricsTableSkipped;
    const read = await readKclWorkerMetricsTable(o.client, tableName, { signal, clock: o.clock, random: o.random, logger: o.logger });
    if (this.noteRead(tableName, 'missing' in read, 'unreadable' in read ? read.unreadable : undefined)) this.workerMetricsTableSkipped = read;
    if ('unreadable' in read) {
      this.warnUnreadable([{ tableName, code: read.unreadable }], 'the KCL 3.x worker-metrics table could not be read: whether the Java workers run is not known');
    }
    return read;
  }

  private isDue(tableName: string): boolean {
    return this.passes >= (this.rareLookFrom.get(tableName) ?? 0);
  }

  /** A table found missing or forbidden is looked at again RARE_LOOK_EVERY_PASSES passes later; returns whether it was. */
  private noteRead(tableName: string, missing: boolean, code: string | undefined): boolean {
    const rare = missing || code === 'AccessDeniedException';
    if (rare) this.rareLookFrom.set(tableName, this.passes + RARE_LOOK_EVERY_PASSES);
    return rare;
  }

  /** Once per table and error code. */
  private warnUnreadable(unreadable: KclMigrationStateRead['unreadable'], message: string): void {
    for (const u of unreadable) {
      const key = `${u.tableName} ${u.code ?? ''}`;
      if (this.warnedUnreadable.has(key)) continue;
      this.warnedUnreadable.add(key);
      this.o.logger.warn({ ...u, index: KCL_LEASE_OWNER_INDEX }, message);
    }
  }

  private report(event: KclMigrationStateEvent, unreadable: KclMigrationStateRead['unreadable']): void {
    const { logger } = this.o;
    const fields = { ...event, ...(unreadable.length > 0 ? { unreadable } : {}) };
    // The KCL's migration tool of 3.5 edits the item in the lease table, the one of 3.0-3.4 the CoordinatorState table.
    const tool = event.tableName === this.o.leaseTableName ? 'the KCL 3.5+ migration tool' : 'the KCL 3.0-3.4 migration tool';
    const live = event.liveKclWorkers;
    const running = live === undefined ? '' : `${live} of its workers reported KCL worker metrics in the last ${KCL_WORKER_ACTIVE_MILLIS / 1000} s. `;
    const stopped = `none of its workers has reported KCL worker metrics in the last ${KCL_WORKER_ACTIVE_MILLIS / 1000} s, so none runs`;
    switch (event.mode) {
      case 'kcl-3x':
        if (live === 0) {
          logger.info(fields, `a KCL 3.x fleet ran this lease table in 3.x mode; ${stopped}: this worker takes its leases over (reported again if its workers start)`);
          break;
        }
        logger.warn(
          fields,
          `a KCL 3.x fleet ran this lease table in 3.x mode. ${running}While its workers run, they and this worker do not share leases well ` +
            '(its leader gives new and expired leases only to KCL workers; this worker steals from them without a handoff, so some records are processed again). ' +
            `Stop the Java workers, or roll them back to 2.x with ${tool} (possible from CLIENT_VERSION_3X_WITH_ROLLBACK only)`,
        );
        break;
      case 'upgrading-from-2x':
        if (live === 0) {
          logger.info(
            fields,
            `KCL 3.x workers in 2.x-compatible mode used this lease table; ${stopped}. Started again, they would switch themselves to 3.x mode ` +
              `about 10 minutes after no kinesis-kit worker holds a lease (reported again if they start)`,
          );
          break;
        }
        logger.warn(
          fields,
          `KCL 3.x workers in 2.x-compatible mode share this lease table. ${running}They switch themselves to 3.x mode about 10 minutes after no ` +
            'kinesis-kit worker holds a lease (every lease owner must publish KCL worker metrics, and we never do). For a lasting mixed fleet, ' +
            `roll them back to CLIENT_VERSION_2X with ${tool}`,
        );
        break;
      case 'kcl-2x':
        logger.info(fields, 'KCL 3.x workers rolled back to 2.x mode share this lease table (compatible)');
        break;
      default:
        logger.warn(fields, 'the lease table holds a KCL migration state this version does not know');
    }
    this.o.emit(event);
  }
}
