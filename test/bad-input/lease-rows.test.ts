/**
 * Bad input, everywhere: lease rows edited by hand.
 *
 * decodeLeaseItem's documented rules (lease-serializer.ts): an item whose entityType is present and
 * not LEASE is skipped as 'not-a-lease'; an item without a leaseKey (S) or an integer leaseCounter
 * (N) is skipped as 'malformed' (LeaseTable logs a warning); every other attribute is read when it
 * has the expected type and otherwise treated as absent. Then, on the mock: a running consumer
 * keeps processing the good shards around such rows, takes the lease of an unknown owner that
 * never renews after failover, and leaves attributes it does not know untouched.
 */
import { GetItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, ListShardsCommand, PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { UserRecord } from '@kinesis-kit/aggregation';
import { MemoryLogger } from '@kinesis-kit/core';
import { decodeLeaseItem, findLeaseProblems, KinesisConsumer, LeaseTable, planLeaseRepair, type DecodeResult, type LeaseItem } from '@kinesis-kit/consumer';
import { describe, expect, it } from 'vitest';
import { until, useBackendPerTest } from '../../packages/consumer/test/consumer/harness.js';

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: string | number): AttributeValue => ({ N: String(n) });
const SEQ = '49590338271490256608559692538361571095921575989136588898';

/** A lease item as the KCL writes it. */
function good(extra: LeaseItem = {}): LeaseItem {
  return {
    leaseKey: S('shardId-000000000007'),
    leaseCounter: N(3),
    leaseOwner: S('worker-a'),
    checkpoint: S(SEQ),
    checkpointSubSequenceNumber: N(2),
    ownerSwitchesSinceCheckpoint: N(1),
    parentShardId: { SS: ['shardId-000000000001'] },
    ...extra,
  };
}

function without(item: LeaseItem, ...names: string[]): LeaseItem {
  const copy = { ...item };
  for (const n of names) delete copy[n];
  return copy;
}

type Expectation = { skipped: 'not-a-lease' | 'malformed' } | { lease: Record<string, unknown>; absent?: string[] };

const ROWS: [string, LeaseItem, Expectation][] = [
  ['a KCL lease', good(), { lease: { leaseKey: 'shardId-000000000007', shardId: 'shardId-000000000007', leaseCounter: 3n, leaseOwner: 'worker-a', checkpoint: { sequenceNumber: SEQ, subSequenceNumber: 2 }, parentShardIds: ['shardId-000000000001'] } }],
  // skipped: not leases
  ['entityType WORKER_METRIC_STATS', good({ entityType: S('WORKER_METRIC_STATS') }), { skipped: 'not-a-lease' }],
  ['entityType lowercase "lease"', good({ entityType: S('lease') }), { skipped: 'not-a-lease' }],
  ['entityType as N', good({ entityType: N(1) }), { skipped: 'not-a-lease' }],
  ['entityType LEASE', good({ entityType: S('LEASE') }), { lease: { leaseCounter: 3n } }],
  // skipped: malformed
  ['leaseCounter missing', without(good(), 'leaseCounter'), { skipped: 'malformed' }],
  ['leaseCounter as S', good({ leaseCounter: S('3') }), { skipped: 'malformed' }],
  ['leaseCounter fractional', good({ leaseCounter: N('1.5') }), { skipped: 'malformed' }],
  ['leaseKey missing', without(good(), 'leaseKey'), { skipped: 'malformed' }],
  ['leaseKey as N', good({ leaseKey: N(7) }), { skipped: 'malformed' }],
  // read: the attribute with the wrong type or missing counts as absent
  ['leaseCounter in exponent form', good({ leaseCounter: N('3e2') }), { lease: { leaseCounter: 300n } }],
  ['leaseCounter beyond 2^64', good({ leaseCounter: N('123456789012345678901234567890') }), { lease: { leaseCounter: 123456789012345678901234567890n } }],
  ['leaseOwner missing (unowned)', without(good(), 'leaseOwner'), { lease: { leaseCounter: 3n }, absent: ['leaseOwner'] }],
  ['leaseOwner as N (read as unowned)', good({ leaseOwner: N(5) }), { lease: { leaseCounter: 3n }, absent: ['leaseOwner'] }],
  ['checkpoint missing', without(good(), 'checkpoint'), { lease: { leaseOwner: 'worker-a' }, absent: ['checkpoint'] }],
  ['checkpoint as N (read as no checkpoint)', good({ checkpoint: N(SEQ.slice(0, 38)) }), { lease: { leaseOwner: 'worker-a' }, absent: ['checkpoint'] }],
  ['checkpointSubSequenceNumber as S (read as 0)', good({ checkpointSubSequenceNumber: S('2') }), { lease: { checkpoint: { sequenceNumber: SEQ, subSequenceNumber: 0 } } }],
  ['checkpointSubSequenceNumber missing (0)', without(good(), 'checkpointSubSequenceNumber'), { lease: { checkpoint: { sequenceNumber: SEQ, subSequenceNumber: 0 } } }],
  ['parentShardId as S instead of SS (read as no parents)', good({ parentShardId: S('shardId-000000000001') }), { lease: { parentShardIds: [] } }],
  ['childShardIds as L', good({ childShardIds: { L: [S('shardId-000000000009')] } }), { lease: { childShardIds: [] } }],
  ['ownerSwitchesSinceCheckpoint as S (read as 0)', good({ ownerSwitchesSinceCheckpoint: S('4') }), { lease: { ownerSwitchesSinceCheckpoint: 0 } }],
  ['pendingCheckpointState as N (the KCL quirk: no state)', good({ pendingCheckpoint: S(SEQ), pendingCheckpointState: N(3) }), { lease: { pendingCheckpoint: { sequenceNumber: SEQ, subSequenceNumber: 0 } }, absent: ['pendingCheckpointState'] }],
  ['startingHashKey without endingHashKey (no range)', good({ startingHashKey: S('0') }), { lease: { leaseCounter: 3n }, absent: ['hashKeyRange'] }],
  ['throughputKBps as S (ignored)', good({ throughputKBps: S('fast') }), { lease: { leaseCounter: 3n }, absent: ['throughputKBps'] }],
  ['unknown extra attributes (ignored)', good({ team: S('payments'), tags: { SS: ['a', 'b'] }, nested: { M: { x: N(1) } } }), { lease: { leaseCounter: 3n, leaseOwner: 'worker-a' } }],
];

function expectDecoded(result: DecodeResult, expected: Expectation): void {
  if ('skipped' in expected) {
    expect(result).toMatchObject({ skipped: expected.skipped });
    expect((result as { detail: string }).detail.length).toBeGreaterThan(0);
    return;
  }
  expect('lease' in result).toBe(true);
  const lease = (result as unknown as { lease: Record<string, unknown> }).lease;
  expect(lease).toMatchObject(expected.lease);
  for (const name of expected.absent ?? []) expect(lease[name], name).toBeUndefined();
}

describe('bad input: lease rows, decoded', () => {
  it.each(ROWS)('%s', (_name, item, expected) => {
    let result: DecodeResult | undefined;
    expect(() => (result = decodeLeaseItem(item))).not.toThrow();
    expectDecoded(result!, expected);
  });
});

// ---- on the mock -----------------------------------------------------------------------------

const backends = useBackendPerTest();
let kinesis: KinesisClient | undefined;
let dynamoDb: DynamoDBClient | undefined;

async function backend(): Promise<void> {
  ({ kinesis, dynamoDb } = await backends.start({ limits: false }));
}

async function rawItem(tableName: string, leaseKey: string): Promise<LeaseItem | undefined> {
  return (await dynamoDb!.send(new GetItemCommand({ TableName: tableName, Key: { leaseKey: S(leaseKey) }, ConsistentRead: true }))).Item;
}

describe('bad input: lease rows in a real table (mock DynamoDB)', () => {
  it('listLeases returns every decodable row (as decodeLeaseItem reads it), skips the rest, warns only for malformed ones', async () => {
    await backend();
    const logger = new MemoryLogger();
    const table = new LeaseTable({ client: dynamoDb!, tableName: 'hand-edited', logger, scanPageSize: 3 });
    await table.ensureTable();
    const keyed = ROWS.filter(([, item]) => item.leaseKey?.S !== undefined).map(([name, item, expected], i) => {
      const leaseKey = `shardId-${String(100 + i).padStart(12, '0')}`;
      return { name, item: { ...item, leaseKey: S(leaseKey) }, expected, leaseKey };
    });
    for (const row of keyed) await dynamoDb!.send(new PutItemCommand({ TableName: 'hand-edited', Item: row.item }));
    // A key attribute of the wrong type is refused by DynamoDB itself, so those rows never exist.
    await expect(dynamoDb!.send(new PutItemCommand({ TableName: 'hand-edited', Item: good({ leaseKey: N(7) }) }))).rejects.toThrow();

    const leases = await table.listLeases(); // paginated: 3 items a page
    const byKey = new Map(leases.map((l) => [l.leaseKey, l]));
    const isSkipWarning = (e: { level: string; message?: string }): boolean => e.level === 'warn' && e.message === 'skipping malformed lease item';
    const scanWarnings = logger.entries.filter(isSkipWarning).length;
    let malformed = 0;
    for (const row of keyed) {
      if ('skipped' in row.expected) {
        expect(byKey.has(row.leaseKey), row.name).toBe(false);
        expect(await table.getLease(row.leaseKey), row.name).toBeUndefined();
        if (row.expected.skipped === 'malformed') malformed++;
      } else {
        expectDecoded({ lease: byKey.get(row.leaseKey)! }, { ...row.expected, lease: { ...row.expected.lease, leaseKey: row.leaseKey, shardId: row.leaseKey } });
      }
    }
    expect(leases).toHaveLength(keyed.filter((r) => 'lease' in r.expected).length);
    expect(scanWarnings).toBe(malformed); // one warning per malformed row and scan; none for non-leases
    expect(logger.entries.filter(isSkipWarning)).toHaveLength(2 * malformed); // and one per getLease of one
  });

  it('a consumer processes the good shards around bad rows, takes an unknown owner\'s lease after failover, and keeps unknown attributes', async () => {
    await backend();
    const stream = 'hand-edited';
    const app = 'hand-edited-app';
    await kinesis!.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 6 }));
    const shards = (await kinesis!.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
    const id = (i: number): string => shards[i]!.ShardId!;
    for (let i = 0; i < 6; i++) {
      for (let n = 0; n < 3; n++) {
        await kinesis!.send(new PutRecordCommand({ StreamName: stream, PartitionKey: `p${i}`, ExplicitHashKey: shards[i]!.HashKeyRange!.StartingHashKey!, Data: Buffer.from(`s${i}-${n}`) }));
      }
    }
    const table = new LeaseTable({ client: dynamoDb!, tableName: app });
    await table.ensureTable();
    const base = (i: number): LeaseItem => ({ leaseKey: S(id(i)), leaseCounter: N(0), ownerSwitchesSinceCheckpoint: N(0), checkpoint: S('TRIM_HORIZON'), checkpointSubSequenceNumber: N(0) });
    const unknown = { team: S('payments'), note: S('edited by hand'), nested: { M: { x: N(1), y: { L: [S('a')] } } }, flags: { SS: ['p', 'q'] } };
    const rows: LeaseItem[] = [
      // 0: a good unowned lease carrying attributes we do not know
      { ...base(0), ...unknown },
      // 1: owned by a worker that does not exist (never renews), with unknown attributes
      { ...base(1), leaseOwner: S('ghost-worker'), leaseCounter: N(7), ...unknown },
      // 2: leaseCounter as S: malformed, skipped
      { ...base(2), leaseCounter: S('0') },
      // 3: no checkpoint, no owner, parentShardId as S naming open shard 0 (as SS it would block it)
      { ...without(base(3), 'checkpoint', 'checkpointSubSequenceNumber'), parentShardId: S(id(0)) },
      // 4: checkpoint written as N: read as "no checkpoint", so it starts at initialPosition
      { ...base(4), checkpoint: N(SEQ.slice(0, 38)) },
      // 5: checkpoint S but not a sequence number: GetShardIterator refuses it, retried (reported) forever
      { ...base(5), checkpoint: S('not-a-sequence-number') },
      // not a lease (KCL 3.x worker metrics)
      { leaseKey: S('worker-metrics-ghost'), entityType: S('WORKER_METRIC_STATS'), wm: N(3) },
    ];
    for (const Item of rows) await dynamoDb!.send(new PutItemCommand({ TableName: app, Item }));

    const delivered = new Map<string, string[]>();
    const logger = new MemoryLogger();
    const acquired: string[] = [];
    const retrievalErrors: { shardId: string; name: string }[] = [];
    const errors: unknown[] = [];
    const c = new KinesisConsumer({
      applicationName: app,
      streamName: stream,
      kinesisClient: kinesis!,
      dynamoDbClient: dynamoDb!,
      workerId: 'w1',
      initialPosition: 'TRIM_HORIZON',
      leaseManagement: { failoverTimeMillis: 1_500, takerInitialJitterMillis: 50, fastTakerIntervalMillis: 200 },
      logger,
      eachBatch: ({ shardId, records }: { shardId: string; records: UserRecord[] }) => {
        const list = delivered.get(shardId) ?? [];
        list.push(...records.map((r) => Buffer.from(r.data).toString('utf8')));
        delivered.set(shardId, list);
      },
    });
    backends.track(c);
    c.on('leaseAcquired', ({ lease }) => {
      acquired.push(lease.shardId);
    });
    c.on('retrievalError', ({ shardId, error }) => {
      retrievalErrors.push({ shardId, name: error.name });
    });
    c.on('error', (e) => {
      errors.push(e);
    });
    await c.start();

    const all = (i: number): string[] => [0, 1, 2].map((n) => `s${i}-${n}`);
    // The good shards at once; the ghost's shard after failoverTimeMillis without a counter change.
    await until(() => [0, 3, 4].every((i) => delivered.get(id(i))?.length === 3), 'shards 0, 3 and 4');
    await until(() => delivered.get(id(1))?.length === 3, 'shard 1 after the ghost owner expired');
    for (const i of [0, 1, 3, 4]) expect(delivered.get(id(i)), id(i)).toEqual(all(i));
    const ghostLease = await table.getLease(id(1));
    expect(ghostLease?.leaseOwner).toBe('w1');
    expect(ghostLease!.leaseCounter).toBeGreaterThan(7n);

    // Checkpoints written after each batch, on every lease we hold.
    await until(async () => {
      for (const i of [0, 1, 3, 4]) if (!(await table.getLease(id(i)))?.checkpoint?.sequenceNumber.match(/^\d+$/)) return false;
      return true;
    }, 'checkpoints on shards 0, 1, 3, 4');
    // Our writes (take, renew, checkpoint: UpdateItem of our attributes) leave unknown ones as they were.
    for (const i of [0, 1]) {
      const item = await rawItem(app, id(i));
      expect(item, id(i)).toMatchObject(unknown);
      expect(item!.leaseOwner).toEqual(S('w1'));
    }
    // The checkpoint of the wrong type was overwritten with a proper one (S).
    expect((await rawItem(app, id(4)))!.checkpoint!.S).toMatch(/^\d+$/);
    // parentShardId (S) is left as it was, and did not block shard 3.
    expect((await rawItem(app, id(3)))!.parentShardId).toEqual(S(id(0)));

    // The malformed row: never taken, never rewritten, never processed, reported at warn level.
    expect(delivered.has(id(2))).toBe(false);
    expect(acquired).not.toContain(id(2));
    expect(c.status().shards.map((s) => s.shardId)).not.toContain(id(2));
    expect(await rawItem(app, id(2))).toEqual({ ...base(2), leaseCounter: S('0') });
    expect(logger.entries.some((e) => e.level === 'warn' && e.message === 'skipping malformed lease item')).toBe(true);
    // The unusable checkpoint: the shard is held and its iterator requests fail, reported as
    // retrievalError (ValidationException), never a crash; the row is not rewritten and nothing is delivered.
    await until(() => retrievalErrors.filter((e) => e.shardId === id(5)).length >= 2, 'retrieval errors on shard 5');
    expect(retrievalErrors.filter((e) => e.shardId === id(5)).map((e) => e.name)).toContain('ValidationException');
    expect(retrievalErrors.filter((e) => e.shardId !== id(5))).toEqual([]);
    expect(delivered.has(id(5))).toBe(false);
    expect((await rawItem(app, id(5)))!.checkpoint).toEqual(S('not-a-sequence-number'));
    expect(errors).toEqual([]);
    // The non-lease item is neither taken, nor deleted, nor changed.
    expect(await rawItem(app, 'worker-metrics-ghost')).toEqual(rows[6]);

    // Unknown attributes also survive a hand edit made while we hold the lease, and the next write.
    await dynamoDb!.send(
      new UpdateItemCommand({ TableName: app, Key: { leaseKey: S(id(0)) }, UpdateExpression: 'SET #x = :x', ExpressionAttributeNames: { '#x': 'addedLater' }, ExpressionAttributeValues: { ':x': S('still here') } }),
    );
    const counter = (await table.getLease(id(0)))!.leaseCounter;
    await until(async () => (await table.getLease(id(0)))!.leaseCounter > counter, 'a renewal of shard 0');
    expect(await rawItem(app, id(0))).toMatchObject({ ...unknown, addedLater: S('still here'), leaseOwner: S('w1') });

    // What `kinesis-kit leases --repair` does (planLeaseRepair + applyRepair), while the consumer
    // runs: the skipped row becomes a lease and is processed; the unusable checkpoint restarts at
    // TRIM_HORIZON once the owner, evicted by the repair, lets the lease go and takes it again.
    let items = await table.scanItems();
    expect(items.flatMap(findLeaseProblems).map((p) => p.leaseKey).sort()).toEqual([id(2), id(5)].sort());
    // A repair is fenced on the counter it read, and w1 renews shard 5 (every 475 ms) meanwhile: one
    // refused under load is read and planned again, as `leases --repair` says ("run again").
    for (let attempt = 1; ; attempt++) {
      const refused: string[] = [];
      for (const item of items) {
        const plan = planLeaseRepair(item);
        if (plan && !(await table.applyRepair(plan))) refused.push(plan.leaseKey);
      }
      if (refused.length === 0) break;
      expect(attempt, `repairs refused again and again: ${refused.join(', ')}`).toBeLessThan(20);
      items = (await table.scanItems()).filter((item) => refused.includes(item.leaseKey?.S ?? ''));
    }
    await until(() => [2, 5].every((i) => delivered.get(id(i))?.length === 3), 'shards 2 and 5 after the repair');
    for (const i of [2, 5]) expect(delivered.get(id(i)), id(i)).toEqual(all(i));
    expect((await table.scanItems()).flatMap(findLeaseProblems)).toEqual([]);
    expect(await rawItem(app, 'worker-metrics-ghost')).toEqual(rows[6]);
    expect(errors).toEqual([]);
  });
});
