import { parseArgs } from 'node:util';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { isSentinel } from '@kinesis-kit/aggregation';
import { LeaseTable, type Lease } from '@kinesis-kit/consumer';
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
    options: { app: { type: 'string' }, table: { type: 'string' }, stream: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false }, ...CONNECTION_FLAGS },
    strict: true,
  });
  if (values.help) {
    io.out(`${LEASES_USAGE}\n`);
    return 0;
  }
  const tableName = values.table ?? values.app;
  if (tableName === undefined) throw new UsageError('--app (or --table) is required');
  const streamName = values.stream === undefined ? undefined : requireStreamName(values.stream);
  const clients = createAwsClients(connectionOptions(values));
  try {
    const table = new LeaseTable({ client: clients.dynamodb, tableName, createTableIfMissing: false });
    if (!(await table.describe(io.signal))) throw new CliError(`lease table "${tableName}" not found (is --app the KCL application name?)`);
    const leases = await table.listLeases({ signal: io.signal });
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
    return 0;
  } finally {
    clients.destroy();
  }
}
