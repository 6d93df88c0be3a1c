import { GetItemCommand, type AttributeValue, type DynamoDBClient, type TableDescription } from '@aws-sdk/client-dynamodb';
import { isAbortError, silentLogger, systemClock } from '@kinesis-kit/core';
import { awsCodeOf, callDynamoDb, isResourceNotFound, type CallContext, type CallOptions } from './dynamodb-call.js';

/**
 * KCL 3.x records which lease algorithm its fleet runs in one item, `Migration3.0`: in the lease
 * table (KCL 3.5 single-table layout, key `leaseKey`) or in `<applicationName>-CoordinatorState`
 * (KCL 3.0–3.4, and 3.5 until its leader moves it when the table migration starts moving entries;
 * it stays in the lease table if that migration is rolled back; key `key`). Attributes: `cv` (the
 * client version), `mb` (modified by: a worker id or the KCL migration tool), `mts` (epoch ms).
 */
export const KCL_MIGRATION_ITEM_KEY = 'Migration3.0';

/**
 * The lease-table index KCL 3.x workers create when they run in 3.x mode or in the 2.x-compatible
 * mode that upgrades itself; the KCL's rollback tool deletes it. Without it, no KCL 3.x worker runs
 * one of those modes on the table, so the migration item is not looked for (no extra reads for
 * 2.x fleets).
 */
export const KCL_LEASE_OWNER_INDEX = 'LeaseOwnerToLeaseKeyIndex';

/**
 * What the fleet's KCL 3.x workers run, from `cv`:
 * - `kcl-3x`: 3.x mode (`CLIENT_VERSION_3X`, `CLIENT_VERSION_3X_WITH_ROLLBACK`): a leader assigns
 *   leases to workers that publish KCL worker metrics; they take and steal nothing themselves;
 * - `upgrading-from-2x`: the 2.x lease taker, but the fleet's leader switches it to 3.x mode
 *   (until rolled back) once every lease owner has published worker metrics for 10 minutes;
 * - `kcl-2x`: rolled back to 2.x (`CLIENT_VERSION_2X`), stable;
 * - `unknown`: a value this version does not know.
 */
export type KclFleetMode = 'kcl-3x' | 'upgrading-from-2x' | 'kcl-2x' | 'unknown';

export interface KclMigrationState {
  /** The item's `cv`, e.g. `CLIENT_VERSION_3X_WITH_ROLLBACK`. */
  clientVersion: string;
  mode: KclFleetMode;
  /** The table the item was read from. */
  tableName: string;
  /** `mb`: the worker id (or `KclMigrationTool-rollback` / `-rollforward`) that last wrote it. */
  modifiedBy?: string;
  /** `mts`: when it was last written, epoch milliseconds. */
  modifiedAt?: number;
}

/**
 * Where KCL 3.0–3.4 (and 3.5 until its table migration moves it) keep the migration item, unless
 * configured with another name (not supported here).
 */
export function kclCoordinatorStateTableName(applicationName: string): string {
  return `${applicationName}-CoordinatorState`;
}

export function hasKclLeaseOwnerIndex(table: TableDescription | undefined): boolean {
  return table?.GlobalSecondaryIndexes?.some((index) => index.IndexName === KCL_LEASE_OWNER_INDEX) ?? false;
}

export function kclFleetMode(clientVersion: string): KclFleetMode {
  switch (clientVersion) {
    case 'CLIENT_VERSION_3X':
    case 'CLIENT_VERSION_3X_WITH_ROLLBACK':
      return 'kcl-3x';
    case 'CLIENT_VERSION_UPGRADE_FROM_2X':
      return 'upgrading-from-2x';
    case 'CLIENT_VERSION_2X':
      return 'kcl-2x';
    default:
      return 'unknown';
  }
}

export interface KclMigrationStateRead {
  /** Undefined when no table read holds the item. */
  state: KclMigrationState | undefined;
  /** Tables that do not exist (ResourceNotFoundException). */
  missing: string[];
  /** Tables that could not be read, with the AWS code (AccessDeniedException, throttling after retries, ...). */
  unreadable: { tableName: string; code: string | undefined }[];
}

type ItemRead =
  | { tableName: string; item: Record<string, AttributeValue> | undefined }
  | { tableName: string; missing: true }
  | { tableName: string; unreadable: string | undefined };

/**
 * Reads the migration item where the KCL looks for it, both tables at once (consistent reads):
 * the CoordinatorState table's item wins, as the KCL reads that table first. Left out when
 * `coordinatorStateTableName` is not given. A table that is missing or cannot be read (the lease
 * table's IAM policy rarely covers the CoordinatorState table) is reported, never thrown: the
 * other table is still read. Only an abort is thrown.
 */
export async function readKclMigrationState(
  client: DynamoDBClient,
  tables: { leaseTableName: string; coordinatorStateTableName?: string | undefined },
  options: CallOptions & Partial<Pick<CallContext, 'clock' | 'random' | 'logger'>> = {},
): Promise<KclMigrationStateRead> {
  const ctx = { clock: options.clock ?? systemClock, random: options.random ?? Math.random, logger: options.logger ?? silentLogger };
  const places = [
    ...(tables.coordinatorStateTableName !== undefined ? [{ tableName: tables.coordinatorStateTableName, keyAttribute: 'key' }] : []),
    { tableName: tables.leaseTableName, keyAttribute: 'leaseKey' },
  ];
  const reads = await Promise.all(
    places.map(async ({ tableName, keyAttribute }): Promise<ItemRead> => {
      try {
        const out = await callDynamoDb(
          'GetItem',
          (s) =>
            client.send(
              new GetItemCommand({ TableName: tableName, Key: { [keyAttribute]: { S: KCL_MIGRATION_ITEM_KEY } }, ConsistentRead: true }),
              { abortSignal: s },
            ),
          { ...ctx, tableName },
          options,
        );
        return { tableName, item: out.Item };
      } catch (err) {
        if (isAbortError(err) || options.signal?.aborted) throw err;
        if (isResourceNotFound(err)) return { tableName, missing: true };
        return { tableName, unreadable: awsCodeOf(err) };
      }
    }),
  );
  const result: KclMigrationStateRead = { state: undefined, missing: [], unreadable: [] };
  for (const read of reads) {
    if ('missing' in read) result.missing.push(read.tableName);
    else if ('unreadable' in read) result.unreadable.push({ tableName: read.tableName, code: read.unreadable });
    else result.state ??= migrationState(read.tableName, read.item);
  }
  return result;
}

function migrationState(tableName: string, item: Record<string, AttributeValue> | undefined): KclMigrationState | undefined {
  const clientVersion = item?.cv?.S;
  if (clientVersion === undefined) return undefined;
  const modifiedAt = Number(item?.mts?.N);
  return {
    clientVersion,
    mode: kclFleetMode(clientVersion),
    tableName,
    ...(item?.mb?.S !== undefined ? { modifiedBy: item.mb.S } : {}),
    ...(Number.isFinite(modifiedAt) ? { modifiedAt } : {}),
  };
}
