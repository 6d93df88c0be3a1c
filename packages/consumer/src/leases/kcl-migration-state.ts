import { GetItemCommand, type AttributeValue, type DynamoDBClient, type TableDescription } from '@aws-sdk/client-dynamodb';
import { silentLogger, systemClock } from '@kinesis-kit/core';
import { awsCodeOf, callDynamoDb, isResourceNotFound, type CallContext, type CallOptions } from './dynamodb-call.js';

/**
 * KCL 3.x records which lease algorithm its fleet runs in one item, `Migration3.0`: in the lease
 * table (KCL 3.5 single-table layout, key `leaseKey`) or in `<applicationName>-CoordinatorState`
 * (KCL 3.0–3.4, and 3.5 until its table migration completes; key `key`). Attributes: `cv` (the
 * client version), `mb` (modified by: a worker id or the KCL migration tool), `mts` (epoch ms).
 */
export const KCL_MIGRATION_ITEM_KEY = 'Migration3.0';

/**
 * The lease-table index KCL 3.x workers create when they run in 3.x mode or in the 2.x-compatible
 * mode that upgrades itself (the KCL's rollback tool deletes it). Without it no such worker has
 * used the table, and the migration item is not looked for (no extra reads for 2.x fleets).
 */
export const KCL_LEASE_OWNER_INDEX = 'LeaseOwnerToLeaseKeyIndex';

/**
 * What the fleet's KCL 3.x workers run, from `cv`:
 * - `kcl-3x`: 3.x mode (`CLIENT_VERSION_3X`, `CLIENT_VERSION_3X_WITH_ROLLBACK`): a leader assigns
 *   leases to workers that publish KCL worker metrics; they take and steal nothing themselves;
 * - `upgrading-from-2x`: the 2.x lease taker, but the fleet's leader switches it to 3.x mode for
 *   good once every lease owner has published worker metrics for 10 minutes;
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

/** Where KCL 3.0–3.4 keep the migration item unless configured otherwise. */
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
  /** Undefined when neither table holds the item. */
  state: KclMigrationState | undefined;
  /** Tables that exist but could not be read (e.g. AccessDeniedException), with the AWS code. */
  unreadable: { tableName: string; code: string | undefined }[];
}

/**
 * Reads the migration item where the KCL looks for it: the CoordinatorState table first, then the
 * lease table (consistent reads). A missing table counts as no item; a table that cannot be read
 * for lack of permission is reported in `unreadable` (the lease table's IAM policy rarely covers
 * the CoordinatorState table). Any other failure is thrown.
 */
export async function readKclMigrationState(
  client: DynamoDBClient,
  tables: { leaseTableName: string; coordinatorStateTableName: string },
  options: CallOptions & Partial<Pick<CallContext, 'clock' | 'random' | 'logger'>> = {},
): Promise<KclMigrationStateRead> {
  const ctx = { clock: options.clock ?? systemClock, random: options.random ?? Math.random, logger: options.logger ?? silentLogger };
  const unreadable: KclMigrationStateRead['unreadable'] = [];
  const places = [
    { tableName: tables.coordinatorStateTableName, keyAttribute: 'key' },
    { tableName: tables.leaseTableName, keyAttribute: 'leaseKey' },
  ];
  for (const { tableName, keyAttribute } of places) {
    let item: Record<string, AttributeValue> | undefined;
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
      item = out.Item;
    } catch (err) {
      if (isResourceNotFound(err)) continue;
      const code = awsCodeOf(err);
      if (code === 'AccessDeniedException') {
        unreadable.push({ tableName, code });
        continue;
      }
      throw err;
    }
    const clientVersion = item?.cv?.S;
    if (clientVersion === undefined) continue;
    const modifiedAt = Number(item?.mts?.N);
    return {
      state: {
        clientVersion,
        mode: kclFleetMode(clientVersion),
        tableName,
        ...(item?.mb?.S !== undefined ? { modifiedBy: item.mb.S } : {}),
        ...(Number.isFinite(modifiedAt) ? { modifiedAt } : {}),
      },
      unreadable,
    };
  }
  return { state: undefined, unreadable };
}
