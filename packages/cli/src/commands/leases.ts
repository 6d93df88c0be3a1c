import { parseArgs } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { isSentinel } from '@kinesis-kit/aggregation';
import {
  decodeLeaseItem,
  findLeaseProblems,
  hasKclLeaseOwnerIndex,
  kclCoordinatorStateTableName,
  kclWorkerMetricsTableName,
  kclWorkerReportOf,
  KCL_WORKER_ACTIVE_MILLIS,
  LeaseTable,
  planLeaseRepair,
  readKclFleetLiveness,
  readKclMigrationState,
  readKclWorkerMetricsTable,
  type CheckpointResetPosition,
  type KclMigrationStateRead,
  type KclWorkerLiveness,
  type Lease,
  type LeaseItem,
} from '@kinesis-kit/consumer';
import { createAwsClients } from '../aws-clients.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionOptions, requireStreamName } from '../connection-args.js';
import { CliError, UsageError } from '../cli-error.js';
import { textTable } from '../text-table.js';
import type { CommandIo } from './command.js';

export const LEASES_USAGE = `Usage: kinesis-kit leases --app <applicationName> [options]
  --app <name>               the KCL application name (the lease table's name unless --table)
  --table <name>             lease table name (default: the application name)
  --stream <name>            also show each shard's lag (MillisBehindLatest after its checkpoint)
  --json                     one JSON object per lease
  --repair                   fix rows workers cannot use (listed on stderr; the exit code is 1 while any remain):
                             a leaseCounter that is not an integer, a checkpoint that is not a sequence number
  --reset-to <position>      where --repair restarts a shard whose checkpoint was unreadable:
                             TRIM_HORIZON (default: nothing skipped, some records read again) or LATEST
${CONNECTION_USAGE}`;

export interface LeaseRow {
  lease: Lease;
  lagMs?: number | undefined;
}

function formatCheckpoint(lease: Lease): string {
  const cp = lease.checkpoint;
  if (!cp) return '-';
  const sub = cp.subSequenceNumber !== undefined && cp.subSequenceNumber > 0 ? `/${cp.subSequenceNumber}` : '';
  return `${cp.sequenceNumber}${sub}`;
}

/** The lease table as a text table, parents before children (sorted by shard id). */
export function renderLeases(rows: readonly LeaseRow[]): string {
  const sorted = [...rows].sort((a, b) => a.lease.leaseKey.localeCompare(b.lease.leaseKey));
  const showLag = rows.some((r) => r.lagMs !== undefined);
  const header = ['shard', 'owner', 'counter', 'checkpoint', 'parents', 'children', ...(showLag ? ['lag'] : [])];
  const body = sorted.map(({ lease, lagMs }) => [
    lease.leaseKey,
    lease.leaseOwner ?? '(none)',
    lease.leaseCounter.toString(),
    formatCheckpoint(lease),
    lease.parentShardIds.join(',') || '-',
    lease.childShardIds.join(',') || '-',
    ...(showLag ? [lagMs === undefined ? '-' : `${(lagMs / 1000).toFixed(1)}s`] : []),
  ]);
  return `${textTable(header, body)}\n${rows.length} lease(s)`;
}

/** MillisBehindLatest just after the checkpoint: what the shard's consumer still has to read. */
async function lagAfterCheckpoint(kinesis: KinesisClient, streamName: string, lease: Lease): Promise<number | undefined> {
  const cp = lease.checkpoint;
  if (!cp || cp.sequenceNumber === 'SHARD_END') return undefined;
  const position = isSentinel(cp.sequenceNumber)
    ? { ShardIteratorType: cp.sequenceNumber === 'LATEST' ? ('LATEST' as const) : ('TRIM_HORIZON' as const) }
    : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: cp.sequenceNumber };
  try {
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: lease.shardId, ...position }));
    if (ShardIterator === undefined) return undefined;
    const out = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 1 }));
    return out.MillisBehindLatest;
  } catch (err) {
    // A lease can outlive its shard (trimmed after retention): no lag to show.
    if ((err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

export async function leasesCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      app: { type: 'string' },
      table: { type: 'string' },
      stream: { type: 'string' },
      json: { type: 'boolean', default: false },
      repair: { type: 'boolean', default: false },
      'reset-to': { type: 'string' },
      help: { type: 'boolean', default: false },
      ...CONNECTION_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    io.out(`${LEASES_USAGE}\n`);
    return 0;
  }
  const tableName = values.table ?? values.app;
  if (tableName === undefined) throw new UsageError('--app (or --table) is required');
  const streamName = values.stream === undefined ? undefined : requireStreamName(values.stream);
  const resetTo = resetPosition(values['reset-to']);
  const clients = createAwsClients(connectionOptions(values));
  try {
    const table = new LeaseTable({ client: clients.dynamodb, tableName, createTableIfMissing: false });
    const description = await table.describe(io.signal);
    if (!description) throw new CliError(`lease table "${tableName}" not found (is --app the KCL application name?)`);
    let items = await table.scanItems({ signal: io.signal });
    if (hasKclLeaseOwnerIndex(description)) io.err(`${await describeKclFleet(clients.dynamodb, tableName, values.app ?? tableName, items, io.signal)}\n`);
    if (values.repair && (await repair(table, items, resetTo, io)) > 0) items = await table.scanItems({ signal: io.signal });
    const leases = items.flatMap((item) => {
      const decoded = decodeLeaseItem(item);
      return 'lease' in decoded ? [decoded.lease] : [];
    });
    const rows: LeaseRow[] = [];
    for (const lease of leases) {
      rows.push({ lease, lagMs: streamName === undefined ? undefined : await lagAfterCheckpoint(clients.kinesis, streamName, lease) });
    }
    if (values.json) {
      for (const { lease, lagMs } of rows) {
        io.out(`${JSON.stringify({ ...lease, leaseCounter: lease.leaseCounter.toString(), pendingCheckpointState: undefined, lagMs })}\n`);
      }
    } else {
      io.out(`${renderLeases(rows)}\n`);
    }
    const problems = items.flatMap(findLeaseProblems);
    for (const p of problems) io.err(`problem: ${p.leaseKey}: ${p.detail}\n`);
    if (problems.length > 0 && !values.repair) io.err(`${problems.length} problem(s); --repair fixes them (see --help)\n`);
    return problems.length > 0 ? 1 : 0;
  } finally {
    clients.destroy();
  }
}

const KCL_MODE_MEANING = {
  'kcl-3x': '3.x mode: do not run kinesis-kit workers beside its workers while they run',
  'upgrading-from-2x': '2.x-compatible, switches itself to 3.x mode about 10 minutes after no kinesis-kit worker holds a lease',
  'kcl-2x': 'rolled back to 2.x: compatible',
  unknown: 'a state this version does not know',
} as const;

/**
 * The KCL 3.x fleet whose index the lease table has: its migration state and, in the modes whose
 * workers publish worker metrics, whether they run (the lease table's metrics items, then the
 * WorkerMetricStats table's).
 */
async function describeKclFleet(
  client: DynamoDBClient,
  leaseTableName: string,
  applicationName: string,
  items: readonly LeaseItem[],
  signal: AbortSignal,
): Promise<string> {
  const read = await readKclMigrationState(client, { leaseTableName, coordinatorStateTableName: kclCoordinatorStateTableName(applicationName) }, { signal });
  const mode = read.state?.mode;
  if (read.state === undefined || (mode !== 'kcl-3x' && mode !== 'upgrading-from-2x')) return describeKclMigrationState(read);
  const metricsTableName = kclWorkerMetricsTableName(applicationName);
  const { liveness, workerMetricsTable } = await readKclFleetLiveness(
    items.flatMap((item) => kclWorkerReportOf(item) ?? []),
    () => readKclWorkerMetricsTable(client, metricsTableName, { signal }),
    Date.now,
  );
  const unreadable =
    workerMetricsTable !== undefined && 'unreadable' in workerMetricsTable
      ? [...read.unreadable, { tableName: metricsTableName, code: workerMetricsTable.unreadable }]
      : read.unreadable;
  return describeKclMigrationState({ ...read, unreadable }, liveness);
}

/** One line on stderr about the KCL 3.x fleet whose index the table has. */
export function describeKclMigrationState({ state, unreadable }: KclMigrationStateRead, liveness?: KclWorkerLiveness): string {
  const denied = unreadable.map((u) => `${u.tableName} (${u.code ?? 'unreadable'})`).join(', ');
  const notRead = denied ? `; could not read ${denied}` : '';
  if (state === undefined) return `KCL 3.x index on the table, no migration state found${notRead}`;
  const by = state.modifiedBy === undefined ? '' : `, by ${state.modifiedBy}`;
  const at = state.modifiedAt === undefined ? '' : ` at ${new Date(state.modifiedAt).toISOString()}`;
  return `KCL 3.x fleet: ${state.clientVersion} (${KCL_MODE_MEANING[state.mode]}), in ${state.tableName}${by}${at}${describeLiveness(liveness)}${notRead}`;
}

function describeLiveness(liveness: KclWorkerLiveness | undefined): string {
  if (liveness === undefined) return '';
  const window = `in the last ${KCL_WORKER_ACTIVE_MILLIS / 1000} s`;
  if (liveness.live > 0) return `; ${liveness.live} worker(s) running (worker metrics ${window})`;
  // readKclFleetLiveness says "none runs" only with a report found.
  if (liveness.lastReportAt === undefined) return '';
  return `; no worker running (no worker metrics ${window}; last at ${new Date(liveness.lastReportAt).toISOString()})`;
}

function resetPosition(value: string | undefined): CheckpointResetPosition {
  if (value === undefined || value === 'TRIM_HORIZON' || value === 'LATEST') return value ?? 'TRIM_HORIZON';
  throw new UsageError(`--reset-to: "${value}" is not TRIM_HORIZON or LATEST`);
}

/** Applies planLeaseRepair() to every item that needs it; returns how many were written. */
async function repair(table: LeaseTable, items: readonly LeaseItem[], resetTo: CheckpointResetPosition, io: CommandIo): Promise<number> {
  let written = 0;
  for (const item of items) {
    const plan = planLeaseRepair(item, resetTo);
    if (plan === undefined) continue;
    if (await table.applyRepair(plan, { signal: io.signal })) {
      written++;
      io.err(`repaired: ${plan.leaseKey}: ${plan.description}\n`);
    } else {
      io.err(`not repaired: ${plan.leaseKey} changed while it was being repaired; run again\n`);
    }
  }
  return written;
}
