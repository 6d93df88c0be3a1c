import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { ExtendedSequenceNumber, HashKeyRangeStrings } from '@kinesis-kit/aggregation';
import { sleep, silentLogger, systemClock, type Clock, type Logger } from '@kinesis-kit/core';
import { ConsumerConfigError, LeaseTableNotActiveError, LeaseTableNotFoundError } from '../errors.js';
import { awsCodeOf, callDynamoDb, isConditionalCheckFailed, isResourceNotFound, scanAllItems, type CallContext, type CallOptions } from './dynamodb-call.js';
import type { Lease, NewLease } from './lease.js';
import { decodeLeaseItem, encodeNewLease, LeaseAttribute as A, type LeaseItem } from './lease-serializer.js';
import type { LeaseRepair } from './lease-table-check.js';
import { kclWorkerReportOf, type KclWorkerReport } from './kcl-worker-metrics.js';
import type { LeaseTableBillingMode } from './options.js';

/** LeaseTable.kclWorkerReports. */
export interface KclWorkerReportsSeen {
  /** Wall-clock time the scan started, epoch milliseconds. */
  scannedAt: number;
  reports: readonly KclWorkerReport[];
}

export interface LeaseTableOptions {
  client: DynamoDBClient;
  tableName: string;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  createTableIfMissing?: boolean;
  billingMode?: LeaseTableBillingMode;
  readCapacity?: number;
  writeCapacity?: number;
  tableActiveTimeoutMillis?: number;
  consistentReads?: boolean;
  /** Scan page size (DynamoDB's 1 MB pages when unset). */
  scanPageSize?: number;
  onRetry?: CallContext['onRetry'];
}

/** Outcome of a write conditional on the lease counter. `ok: false` means another writer won. */
export type ConditionalWriteResult =
  | { ok: true; lease?: Lease; counter: bigint }
  | { ok: false; current?: Lease };

/** A checkpoint commit (clears any pending checkpoint) or a prepare (writes only the pending fields). */
export type CheckpointUpdate =
  | { kind: 'commit'; checkpoint: ExtendedSequenceNumber }
  | { kind: 'prepare'; pendingCheckpoint: ExtendedSequenceNumber; pendingCheckpointState?: Uint8Array };

export interface LeaseMetadataUpdate {
  childShardIds?: readonly string[];
  hashKeyRange?: HashKeyRangeStrings;
}

const USABLE_STATUSES = new Set(['ACTIVE', 'UPDATING']);

/**
 * The KCL lease table: every DynamoDB operation on it, with the KCL's attribute names, types and
 * conditions (kcl.md 1.5). Stateless; the coordinator keeps the in-memory lease records.
 * Mutations use UpdateItem with SET/REMOVE of our attributes only, so attributes written by other
 * KCL versions (throughputKBps, entityType, ...) survive.
 */
export class LeaseTable {
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly ctx: CallContext;
  private lastKclWorkerReports: KclWorkerReportsSeen | undefined;
  private readonly options: Required<Omit<LeaseTableOptions, 'scanPageSize' | 'onRetry' | 'client' | 'tableName'>> & {
    scanPageSize: number | undefined;
  };

  constructor(options: LeaseTableOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.options = {
      clock: options.clock ?? systemClock,
      random: options.random ?? Math.random,
      logger: options.logger ?? silentLogger,
      createTableIfMissing: options.createTableIfMissing ?? true,
      billingMode: options.billingMode ?? 'PAY_PER_REQUEST',
      readCapacity: options.readCapacity ?? 10,
      writeCapacity: options.writeCapacity ?? 10,
      tableActiveTimeoutMillis: options.tableActiveTimeoutMillis ?? 600_000,
      consistentReads: options.consistentReads ?? false,
      scanPageSize: options.scanPageSize,
    };
    this.ctx = {
      clock: this.options.clock,
      random: this.options.random,
      logger: this.options.logger,
      tableName: this.tableName,
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    };
  }

  // ---------------------------------------------------------------- table

  /**
   * DescribeTable first (so a pre-created table needs no CreateTable permission); creates the
   * table only if it is missing and creation is allowed, then waits for ACTIVE (bounded, abortable).
   */
  async ensureTable(signal?: AbortSignal): Promise<{ created: boolean; description: TableDescription }> {
    let table = await this.describe(signal);
    let created = false;
    if (!table) {
      if (!this.options.createTableIfMissing) throw new LeaseTableNotFoundError(this.tableName);
      created = await this.create(signal);
      table = await this.describe(signal);
    }
    if (table) this.checkKeySchema(table);
    if (!table || !USABLE_STATUSES.has(table.TableStatus ?? '')) table = await this.waitUntilActive(signal);
    return { created, description: table };
  }

  /** The table's description, or undefined when it does not exist. */
  async describe(signal?: AbortSignal): Promise<TableDescription | undefined> {
    try {
      const out = await callDynamoDb(
        'DescribeTable',
        (s) => this.client.send(new DescribeTableCommand({ TableName: this.tableName }), { abortSignal: s }),
        this.ctx,
        { signal, maxAttempts: 5 },
      );
      return out.Table;
    } catch (err) {
      if (isResourceNotFound(err)) return undefined;
      throw err;
    }
  }

  private async create(signal?: AbortSignal): Promise<boolean> {
    const provisioned = this.options.billingMode === 'PROVISIONED';
    try {
      await callDynamoDb(
        'CreateTable',
        (s) =>
          this.client.send(
            new CreateTableCommand({
              TableName: this.tableName,
              AttributeDefinitions: [{ AttributeName: A.leaseKey, AttributeType: 'S' }],
              KeySchema: [{ AttributeName: A.leaseKey, KeyType: 'HASH' }],
              BillingMode: this.options.billingMode,
              ...(provisioned
                ? {
                    ProvisionedThroughput: {
                      ReadCapacityUnits: this.options.readCapacity,
                      WriteCapacityUnits: this.options.writeCapacity,
                    },
                  }
                : {}),
            }),
            { abortSignal: s },
          ),
        this.ctx,
        { signal, maxAttempts: 5 },
      );
      this.options.logger.info({ tableName: this.tableName, billingMode: this.options.billingMode }, 'created lease table');
      return true;
    } catch (err) {
      // Another worker created it first.
      if (awsCodeOf(err) === 'ResourceInUseException') return false;
      throw err;
    }
  }

  private checkKeySchema(table: TableDescription): void {
    const keys = table.KeySchema ?? [];
    const hash = keys.find((k) => k.KeyType === 'HASH');
    const type = table.AttributeDefinitions?.find((d) => d.AttributeName === hash?.AttributeName)?.AttributeType;
    if (keys.length !== 1 || hash?.AttributeName !== A.leaseKey || type !== 'S') {
      throw new ConsumerConfigError(
        'tableName',
        `table ${this.tableName} exists but is not a KCL lease table (expected a single HASH key leaseKey of type S)`,
      );
    }
  }

  private async waitUntilActive(signal?: AbortSignal): Promise<TableDescription> {
    const { clock } = this.options;
    const start = clock.monotonic();
    let status: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const table = await this.describe(signal);
      status = table?.TableStatus;
      if (table !== undefined && status !== undefined && USABLE_STATUSES.has(status)) return table;
      const waited = clock.monotonic() - start;
      const delay = Math.min(10_000, 200 * 1.5 ** (attempt - 1));
      if (waited + delay > this.options.tableActiveTimeoutMillis) throw new LeaseTableNotActiveError(this.tableName, status, waited);
      await sleep(delay, signal, clock);
    }
  }

  // ---------------------------------------------------------------- reads

  /**
   * Every lease in the table (paginated Scan); items that are not leases are skipped. The KCL 3.x
   * worker-metrics items among them are kept as `kclWorkerReports`.
   */
  async listLeases(options: CallOptions = {}): Promise<Lease[]> {
    const leases: Lease[] = [];
    const reports: KclWorkerReport[] = [];
    const scannedAt = this.options.clock.now();
    for (const item of await this.scanItems(options)) {
      const lease = this.decode(item);
      if (lease) {
        leases.push(lease);
        continue;
      }
      const report = kclWorkerReportOf(item);
      if (report) reports.push(report);
    }
    this.lastKclWorkerReports = { scannedAt, reports };
    return leases;
  }

  /**
   * The KCL 3.x worker-metrics items (KCL 3.5 single-table layout) seen by the latest complete
   * listLeases, and when it started (wall clock); undefined before the first. Lets the fleet watch
   * tell a running Java fleet from a stopped one without a Scan of its own.
   */
  get kclWorkerReports(): KclWorkerReportsSeen | undefined {
    return this.lastKclWorkerReports;
  }

  /** Every item of the table as stored (paginated Scan), leases or not, readable or not. */
  scanItems(options: CallOptions = {}): Promise<LeaseItem[]> {
    const input = {
      TableName: this.tableName,
      ConsistentRead: this.options.consistentReads,
      ...(this.options.scanPageSize !== undefined ? { Limit: this.options.scanPageSize } : {}),
    };
    return scanAllItems(this.client, input, this.ctx, { maxAttempts: 5, ...options });
  }

  /** One lease (strongly consistent read by default), or undefined if absent or not a lease. */
  async getLease(leaseKey: string, options: CallOptions & { consistentRead?: boolean } = {}): Promise<Lease | undefined> {
    const out = await callDynamoDb(
      'GetItem',
      (s) =>
        this.client.send(
          new GetItemCommand({ TableName: this.tableName, Key: key(leaseKey), ConsistentRead: options.consistentRead ?? true }),
          { abortSignal: s },
        ),
      this.ctx,
      { maxAttempts: 5, ...options },
      leaseKey,
    );
    return out.Item ? this.decode(out.Item) : undefined;
  }

  // ---------------------------------------------------------------- unconditional-owner writes

  /** PutItem if no item has this key (shard sync, child leases). Returns false when it already existed. */
  async createLeaseIfNotExists(lease: NewLease, options: CallOptions = {}): Promise<boolean> {
    try {
      await callDynamoDb(
        'PutItem',
        (s) =>
          this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: encodeNewLease(lease),
              ConditionExpression: 'attribute_not_exists(#k)',
              ExpressionAttributeNames: { '#k': A.leaseKey },
            }),
            { abortSignal: s },
          ),
        this.ctx,
        options,
        lease.leaseKey,
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  /** Unconditional DeleteItem, as the KCL (lease cleanup after shard end). */
  async deleteLease(leaseKey: string, options: CallOptions = {}): Promise<void> {
    await callDynamoDb(
      'DeleteItem',
      (s) => this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key(leaseKey) }), { abortSignal: s }),
      this.ctx,
      options,
      leaseKey,
    );
  }

  /** Child shard ids and/or hash range; no counter bump, only if the lease exists. Returns false if it does not. */
  async updateLeaseMetadata(leaseKey: string, update: LeaseMetadataUpdate, options: CallOptions = {}): Promise<boolean> {
    const names: Record<string, string> = { '#k': A.leaseKey };
    const values: Record<string, AttributeValue> = {};
    const sets: string[] = [];
    if (update.childShardIds && update.childShardIds.length > 0) {
      names['#children'] = A.childShardIds;
      values[':children'] = { SS: [...new Set(update.childShardIds)] };
      sets.push('#children = :children');
    }
    if (update.hashKeyRange) {
      names['#start'] = A.startingHashKey;
      names['#end'] = A.endingHashKey;
      values[':start'] = { S: update.hashKeyRange.startingHashKey };
      values[':end'] = { S: update.hashKeyRange.endingHashKey };
      sets.push('#start = :start', '#end = :end');
    }
    if (sets.length === 0) return true;
    try {
      await this.update(leaseKey, `SET ${sets.join(', ')}`, 'attribute_exists(#k)', names, values, options);
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  // ---------------------------------------------------------------- counter-fenced writes

  /** Heartbeat: counter c -> c+1 if the counter is still c, we own it and no 3.x handoff is in progress. */
  async renewLease(leaseKey: string, owner: string, counter: bigint, options: CallOptions = {}): Promise<ConditionalWriteResult> {
    const next = counter + 1n;
    return this.fenced(
      leaseKey,
      () =>
        this.update(
          leaseKey,
          'SET #counter = :next',
          '#counter = :counter AND #owner = :owner AND attribute_not_exists(#cpo)',
          { '#counter': A.leaseCounter, '#owner': A.leaseOwner, '#cpo': A.checkpointOwner },
          { ':next': n(next), ':counter': n(counter), ':owner': { S: owner } },
          options,
        ),
      (item) => item.leaseOwner === owner && item.leaseCounter === next && item.checkpointOwner === undefined,
      next,
      options,
    );
  }

  /**
   * Takes (or steals) a lease seen in a scan: owner := us, counter c -> c+1, owner switches +1 only
   * when another worker owned it (as the KCL's getDynamoTakeLeaseUpdate: not for an unowned lease,
   * not for our own). Conditional on the counter seen and on no KCL 3.x handoff, except for a
   * handoff abandoned by both KCL workers (the taker judges that): then also on the checkpointOwner
   * seen, which the take removes, as the KCL 2.x taker and the 3.x leader's reassignment do.
   */
  async takeLease(observed: Lease, owner: string, options: CallOptions = {}): Promise<ConditionalWriteResult> {
    const next = observed.leaseCounter + 1n;
    const names: Record<string, string> = { '#counter': A.leaseCounter, '#owner': A.leaseOwner, '#cpo': A.checkpointOwner };
    const values: Record<string, AttributeValue> = { ':next': n(next), ':counter': n(observed.leaseCounter), ':owner': { S: owner } };
    let set = 'SET #counter = :next, #owner = :owner';
    if (observed.leaseOwner !== undefined && observed.leaseOwner !== owner) {
      names['#switches'] = A.ownerSwitchesSinceCheckpoint;
      values[':zero'] = { N: '0' };
      values[':one'] = { N: '1' };
      set += ', #switches = if_not_exists(#switches, :zero) + :one';
    }
    let update = set;
    let condition = '#counter = :counter AND attribute_not_exists(#cpo)';
    if (observed.checkpointOwner !== undefined) {
      values[':cpo'] = { S: observed.checkpointOwner };
      update += ' REMOVE #cpo';
      condition = '#counter = :counter AND #cpo = :cpo';
    }
    return this.fenced(
      observed.leaseKey,
      async () => {
        const out = await this.update(observed.leaseKey, update, condition, names, values, {
          ...options,
          returnAll: true,
        });
        return out ? this.decode(out) : undefined;
      },
      (item) => item.leaseOwner === owner && item.leaseCounter === next && item.checkpointOwner === undefined,
      next,
      options,
    );
  }

  /**
   * Graceful release (the KCL's "evict"): REMOVE leaseOwner and bump the counter, so the lease is
   * unowned and any worker takes it at its next taker pass. If our own earlier write (e.g. an
   * aborted renewal that landed) moved the counter, it follows the counter a couple of times.
   */
  async evictLease(leaseKey: string, owner: string, counter: bigint, options: CallOptions = {}): Promise<ConditionalWriteResult> {
    let expected = counter;
    for (let chase = 0; ; chase++) {
      const next = expected + 1n;
      const result = await this.fenced(
        leaseKey,
        () =>
          this.update(
            leaseKey,
            'SET #counter = :next REMOVE #owner',
            '#counter = :counter AND #owner = :owner',
            { '#counter': A.leaseCounter, '#owner': A.leaseOwner },
            { ':next': n(next), ':counter': n(expected), ':owner': { S: owner } },
            options,
          ),
        (item) => item.leaseOwner === undefined && item.leaseCounter === next,
        next,
        options,
      );
      if (result.ok) return result;
      const current = result.current;
      if (!current) return { ok: true, counter: next }; // deleted: nothing left to release
      if (chase < 2 && current.leaseOwner === owner && current.checkpointOwner === undefined && current.leaseCounter > expected) {
        expected = current.leaseCounter;
        continue;
      }
      return result;
    }
  }

  /** Checkpoint commit or prepare: counter-fenced UpdateItem of the checkpoint attributes (acts as a renewal too). */
  async updateCheckpoint(
    leaseKey: string,
    owner: string,
    counter: bigint,
    update: CheckpointUpdate,
    options: CallOptions = {},
  ): Promise<ConditionalWriteResult> {
    const next = counter + 1n;
    const names: Record<string, string> = { '#counter': A.leaseCounter, '#owner': A.leaseOwner };
    const values: Record<string, AttributeValue> = { ':next': n(next), ':counter': n(counter), ':owner': { S: owner } };
    const sets = ['#counter = :next'];
    const removes: string[] = [];
    names['#pcp'] = A.pendingCheckpoint;
    names['#pcpSub'] = A.pendingCheckpointSubSequenceNumber;
    names['#pcpState'] = A.pendingCheckpointState;
    if (update.kind === 'commit') {
      names['#cp'] = A.checkpoint;
      names['#cpSub'] = A.checkpointSubSequenceNumber;
      names['#switches'] = A.ownerSwitchesSinceCheckpoint;
      values[':cp'] = { S: update.checkpoint.sequenceNumber };
      values[':cpSub'] = { N: String(update.checkpoint.subSequenceNumber ?? 0) };
      values[':zero'] = { N: '0' };
      sets.push('#cp = :cp', '#cpSub = :cpSub', '#switches = :zero');
      removes.push('#pcp', '#pcpSub', '#pcpState');
    } else {
      values[':pcp'] = { S: update.pendingCheckpoint.sequenceNumber };
      values[':pcpSub'] = { N: String(update.pendingCheckpoint.subSequenceNumber ?? 0) };
      sets.push('#pcp = :pcp', '#pcpSub = :pcpSub');
      if (update.pendingCheckpointState) {
        values[':pcpState'] = { B: update.pendingCheckpointState };
        sets.push('#pcpState = :pcpState');
      } else {
        removes.push('#pcpState');
      }
    }
    const expression = `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`;
    return this.fenced(
      leaseKey,
      () => this.update(leaseKey, expression, '#counter = :counter AND #owner = :owner', names, values, options),
      (item) => item.leaseOwner === owner && item.leaseCounter === next && checkpointMatches(item, update),
      next,
      options,
    );
  }

  // ---------------------------------------------------------------- plumbing

  /**
   * Runs a counter-conditioned write. On a failed condition it reads the item back (as the KCL does)
   * in case the write that "failed" was our own earlier attempt retried by the SDK or by us.
   */
  private async fenced(
    leaseKey: string,
    write: () => Promise<unknown>,
    isOurs: (item: Lease) => boolean,
    next: bigint,
    options: CallOptions,
  ): Promise<ConditionalWriteResult> {
    try {
      const written = await write();
      const lease = written && typeof written === 'object' && 'leaseKey' in written ? (written as Lease) : undefined;
      return lease ? { ok: true, lease, counter: next } : { ok: true, counter: next };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw err;
      const current = await this.getLease(leaseKey, { signal: options.signal, maxAttempts: 5 });
      if (current && isOurs(current)) {
        this.options.logger.debug({ leaseKey }, 'condition failed on our own earlier write: treated as success');
        return { ok: true, lease: current, counter: next };
      }
      return current ? { ok: false, current } : { ok: false };
    }
  }

  private async update(
    leaseKey: string,
    updateExpression: string,
    conditionExpression: string,
    names: Record<string, string>,
    values: Record<string, AttributeValue>,
    options: CallOptions & { returnAll?: boolean },
  ): Promise<LeaseItem | undefined> {
    const out = await callDynamoDb(
      'UpdateItem',
      (s) =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: key(leaseKey),
            UpdateExpression: updateExpression,
            ConditionExpression: conditionExpression,
            ExpressionAttributeNames: names,
            ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
            ...(options.returnAll ? { ReturnValues: 'ALL_NEW' as const } : {}),
          }),
          { abortSignal: s },
        ),
      this.ctx,
      options,
      leaseKey,
    );
    return out.Attributes;
  }

  /**
   * Applies a planLeaseRepair() write. Returns false (nothing written) when the item changed since
   * it was read: check it again.
   */
  async applyRepair(repair: LeaseRepair, options: CallOptions = {}): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    const conditions: string[] = [];
    const sets: string[] = [];
    let i = 0;
    const nameOf = (attribute: string) => {
      const placeholder = `#a${i++}`;
      names[placeholder] = attribute;
      return placeholder;
    };
    for (const [attribute, value] of Object.entries(repair.expected)) {
      const name = nameOf(attribute);
      if (value === undefined) {
        conditions.push(`attribute_not_exists(${name})`);
      } else {
        values[`:e${i}`] = value;
        conditions.push(`${name} = :e${i}`);
      }
    }
    for (const [attribute, value] of Object.entries(repair.set)) {
      const name = nameOf(attribute);
      values[`:s${i}`] = value;
      sets.push(`${name} = :s${i}`);
    }
    const removes = repair.remove.map(nameOf);
    const expression = [sets.length > 0 ? `SET ${sets.join(', ')}` : '', removes.length > 0 ? `REMOVE ${removes.join(', ')}` : ''].filter(Boolean).join(' ');
    try {
      await this.update(repair.leaseKey, expression, ['attribute_exists(#key)', ...conditions].join(' AND '), { ...names, '#key': A.leaseKey }, values, options);
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw err;
    }
  }

  private decode(item: LeaseItem): Lease | undefined {
    const result = decodeLeaseItem(item);
    if ('lease' in result) return result.lease;
    if (result.skipped === 'malformed') {
      this.options.logger.warn({ tableName: this.tableName, detail: result.detail }, 'skipping malformed lease item');
    }
    return undefined;
  }
}

function key(leaseKey: string): Record<string, AttributeValue> {
  return { [A.leaseKey]: { S: leaseKey } };
}

function n(value: bigint): AttributeValue {
  return { N: value.toString() };
}

function checkpointMatches(item: Lease, update: CheckpointUpdate): boolean {
  if (update.kind === 'commit') {
    return (
      item.checkpoint?.sequenceNumber === update.checkpoint.sequenceNumber &&
      (item.checkpoint.subSequenceNumber ?? 0) === (update.checkpoint.subSequenceNumber ?? 0) &&
      item.pendingCheckpoint === undefined
    );
  }
  return (
    item.pendingCheckpoint?.sequenceNumber === update.pendingCheckpoint.sequenceNumber &&
    (item.pendingCheckpoint.subSequenceNumber ?? 0) === (update.pendingCheckpoint.subSequenceNumber ?? 0)
  );
}
