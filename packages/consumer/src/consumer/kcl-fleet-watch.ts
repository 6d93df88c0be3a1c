import type { DynamoDBClient, TableDescription } from '@aws-sdk/client-dynamodb';
import { errorFields, isAbortError, type Clock, type Logger } from '@kinesis-kit/core';
import {
  hasKclLeaseOwnerIndex,
  KCL_LEASE_OWNER_INDEX,
  kclCoordinatorStateTableName,
  readKclMigrationState,
} from '../leases/kcl-migration-state.js';
import type { KclMigrationStateEvent } from './events.js';

export interface KclFleetWatchOptions {
  client: DynamoDBClient;
  applicationName: string;
  leaseTableName: string;
  clock: Clock;
  random: () => number;
  logger: Logger;
  emit: (event: KclMigrationStateEvent) => void;
}

/**
 * Watches for a KCL 3.x fleet on the lease table, and says so when the algorithm it runs is one
 * our 2.x lease protocol does not mix with. We take and steal leases as a KCL 2.x worker does; a
 * 3.x-mode fleet assigns leases from a leader, to workers that publish worker metrics (we never
 * do), and a fleet in the 2.x-compatible upgrade mode switches itself to 3.x mode for good about
 * 10 minutes after every lease owner publishes them, i.e. once no kinesis-kit worker holds a lease.
 *
 * Read only when the lease table has the index those KCL 3.x modes create, at start and then at
 * every shard sync pass (the KCL's own workers look once a minute). Reported (event and log) at
 * start and whenever `cv` changes. Advisory: a failed read is logged, never fails the consumer.
 */
export class KclFleetWatch {
  private watching = false;
  private reported: string | undefined;
  private warnedUnreadable = false;

  constructor(private readonly o: KclFleetWatchOptions) {}

  /** At start, with the lease table's description. */
  async checkAtStart(table: TableDescription, signal: AbortSignal): Promise<void> {
    if (!hasKclLeaseOwnerIndex(table)) return;
    this.watching = true;
    await this.check(signal);
  }

  /** Later passes: only once the index was seen at start. */
  async recheck(signal: AbortSignal): Promise<void> {
    if (this.watching && !signal.aborted) await this.check(signal);
  }

  private async check(signal: AbortSignal): Promise<void> {
    const { o } = this;
    const coordinatorStateTableName = kclCoordinatorStateTableName(o.applicationName);
    try {
      const { state, unreadable } = await readKclMigrationState(
        o.client,
        { leaseTableName: o.leaseTableName, coordinatorStateTableName },
        { signal, clock: o.clock, random: o.random, logger: o.logger },
      );
      if (state === undefined) {
        if (unreadable.length > 0 && !this.warnedUnreadable) {
          this.warnedUnreadable = true;
          o.logger.warn(
            { unreadable, index: KCL_LEASE_OWNER_INDEX },
            'the lease table has the index KCL 3.x creates, but its migration state could not be read; if a KCL 3.x fleet in 3.x mode shares this table, this worker does not mix with it',
          );
        }
        return;
      }
      if (state.clientVersion === this.reported) return;
      const previous = this.reported;
      this.reported = state.clientVersion;
      this.report({ ...state, ...(previous !== undefined ? { previousClientVersion: previous } : {}) });
    } catch (err) {
      if (isAbortError(err) || signal.aborted) return;
      o.logger.warn(errorFields(err), 'could not read the KCL 3.x migration state; tried again at the next shard sync');
    }
  }

  private report(event: KclMigrationStateEvent): void {
    const { logger } = this.o;
    const fields = { ...event };
    switch (event.mode) {
      case 'kcl-3x':
        logger.warn(
          fields,
          'a KCL 3.x fleet ran this lease table in 3.x mode: if its workers are running, they and this worker do not share leases well ' +
            '(its leader gives new and expired leases only to KCL workers; this worker steals from them without a handoff, so records are processed twice). ' +
            'Stop the Java workers, or roll them back to 2.x (KCL migration tool, from CLIENT_VERSION_3X_WITH_ROLLBACK only)',
        );
        break;
      case 'upgrading-from-2x':
        logger.warn(
          fields,
          'KCL 3.x workers in 2.x-compatible mode share this lease table: they switch themselves to 3.x mode for good about 10 minutes after no ' +
            'kinesis-kit worker holds a lease (every lease owner must publish KCL worker metrics, and we never do). For a lasting mixed fleet, ' +
            'roll them back to CLIENT_VERSION_2X (KCL migration tool)',
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
