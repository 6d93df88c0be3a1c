/**
 * Lease-table compatibility with the Java KCL (kcl.md 1.2-1.5): items hand-built exactly as KCL 2.x
 * and 3.x write them are read correctly and keep their unknown attributes through our writes; items
 * we write are read back by an independent decoder that follows kcl.md 1.2 to the letter.
 */
import { describe, expect, it } from 'vitest';
import { GetItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { parseLeaseKey } from '@kinesis-kit/consumer';
import { type Fleet, useFleetPerTest } from './harness.js';

type Item = Record<string, AttributeValue>;

const newFleet = useFleetPerTest();
let fleet: Fleet;

const SEQ_A = '49590338271490256608559692538361571095921575989136588898';
const SEQ_B = '49590338271490256608559692540925702759324208523137515618';
const MAX = '340282366920938463463374607431768211455';
const MID = '170141183460469231731687303715884105727';

/** Raw items exactly as the KCL writes them (names and DynamoDB types from kcl.md 1.2). */
const KCL_ITEMS: Record<string, Item> = {
  // KCL 2.x, owned by a Java worker that is no longer running; a child of shard 0.
  'shardId-000000000002': {
    leaseKey: { S: 'shardId-000000000002' },
    leaseOwner: { S: 'java-worker-1' },
    leaseCounter: { N: '41' },
    ownerSwitchesSinceCheckpoint: { N: '2' },
    checkpoint: { S: SEQ_A },
    checkpointSubSequenceNumber: { N: '3' },
    parentShardId: { SS: ['shardId-000000000000'] },
    startingHashKey: { S: '0' },
    endingHashKey: { S: MID },
  },
  // KCL 3.5: entityType LEASE, throughputKBps, plus an attribute from some future version.
  'shardId-000000000003': {
    leaseKey: { S: 'shardId-000000000003' },
    leaseOwner: { S: 'java3-worker' },
    leaseCounter: { N: '7' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    checkpoint: { S: 'TRIM_HORIZON' },
    checkpointSubSequenceNumber: { N: '0' },
    startingHashKey: { S: '170141183460469231731687303715884105728' },
    endingHashKey: { S: MAX },
    throughputKBps: { N: '12.345678' },
    entityType: { S: 'LEASE' },
    someFutureAttribute: { M: { nested: { L: [{ S: 'x' }, { N: '1' }] } } },
  },
  // KCL 3.x graceful handoff in progress: not taken by us while it may still finish.
  'shardId-000000000004': {
    leaseKey: { S: 'shardId-000000000004' },
    leaseOwner: { S: 'java3-worker-b' },
    checkpointOwner: { S: 'java3-worker' },
    leaseCounter: { N: '12' },
    ownerSwitchesSinceCheckpoint: { N: '1' },
    checkpoint: { S: SEQ_B },
    checkpointSubSequenceNumber: { N: '0' },
  },
  // A prepared (two-phase) checkpoint with application state (update path: B).
  'shardId-000000000005': {
    leaseKey: { S: 'shardId-000000000005' },
    leaseCounter: { N: '3' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    checkpoint: { S: SEQ_A },
    checkpointSubSequenceNumber: { N: '0' },
    pendingCheckpoint: { S: SEQ_B },
    pendingCheckpointSubSequenceNumber: { N: '4' },
    pendingCheckpointState: { B: new Uint8Array([0xca, 0xfe, 0x00, 0x01]) },
  },
  // The KCL PutItem quirk: pendingCheckpointState written as an N.
  'shardId-000000000006': {
    leaseKey: { S: 'shardId-000000000006' },
    leaseCounter: { N: '0' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    checkpoint: { S: 'LATEST' },
    checkpointSubSequenceNumber: { N: '0' },
    pendingCheckpoint: { S: SEQ_A },
    pendingCheckpointSubSequenceNumber: { N: '0' },
    pendingCheckpointState: { N: '0' },
  },
  // A finished parent: SHARD_END with its children recorded.
  'shardId-000000000000': {
    leaseKey: { S: 'shardId-000000000000' },
    leaseCounter: { N: '901' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    checkpoint: { S: 'SHARD_END' },
    checkpointSubSequenceNumber: { N: '0' },
    childShardIds: { SS: ['shardId-000000000002', 'shardId-000000000007'] },
  },
  // Multi-stream lease key with the legacy streamName/shardId attributes.
  '123456789012:orders:1700000000:shardId-000000000001': {
    leaseKey: { S: '123456789012:orders:1700000000:shardId-000000000001' },
    leaseCounter: { N: '5' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    checkpoint: { S: 'AT_TIMESTAMP' },
    checkpointSubSequenceNumber: { N: '0' },
    streamName: { S: '123456789012:orders:1700000000' },
    shardId: { S: 'shardId-000000000001' },
  },
};

/** KCL 3.5 single-table items that are not leases: must be skipped, and never touched. */
const NON_LEASE_ITEMS: Item[] = [
  { leaseKey: { S: 'Leader' }, entityType: { S: 'LEADER' }, ownerName: { S: 'java3-worker' }, leaseDuration: { S: '120000' } },
  { leaseKey: { S: 'Migration3.0' }, entityType: { S: 'CLIENT_VERSION_MIGRATION' }, cv: { S: 'CLIENT_VERSION_3X' } },
  { leaseKey: { S: 'TableMigration3.5' }, entityType: { S: 'TABLE_MIGRATION' }, tm: { S: 'DONE' } },
  { leaseKey: { S: 'java3-worker' }, entityType: { S: 'WORKER_METRIC_STATS' }, lut: { N: '1767225600' } },
  { leaseKey: { S: 'orders' }, entityType: { S: 'STREAM' }, leaseCounter: { N: '1' } },
];

// ------------------------------------------------------------------------------------------------
// An independent decoder written from kcl.md 1.2 only (not from our serializer).

const KCL_TYPES: Record<string, 'S' | 'N' | 'B' | 'SS'> = {
  leaseKey: 'S',
  leaseCounter: 'N',
  leaseOwner: 'S',
  ownerSwitchesSinceCheckpoint: 'N',
  checkpoint: 'S',
  checkpointSubSequenceNumber: 'N',
  pendingCheckpoint: 'S',
  pendingCheckpointSubSequenceNumber: 'N',
  pendingCheckpointState: 'B',
  parentShardId: 'SS',
  childShardIds: 'SS',
  startingHashKey: 'S',
  endingHashKey: 'S',
  throughputKBps: 'N',
  checkpointOwner: 'S',
  entityType: 'S',
  streamName: 'S',
  shardId: 'S',
};
const ALWAYS = ['leaseKey', 'leaseCounter', 'ownerSwitchesSinceCheckpoint', 'checkpoint', 'checkpointSubSequenceNumber'];
const SENTINELS = new Set(['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP', 'SHARD_END']);

function kclDecode(item: Item): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) {
    const type = KCL_TYPES[name];
    if (!type) throw new Error(`attribute ${name} is not a KCL lease attribute`);
    const keys = Object.keys(value);
    // kcl.md 1.2: the KCL's own PutItem path writes pendingCheckpointState as an N.
    const quirk = name === 'pendingCheckpointState' && keys[0] === 'N';
    if (keys.length !== 1 || (keys[0] !== type && !quirk)) throw new Error(`${name} must be ${type}, got ${keys.join(',')}`);
    if (quirk) continue;
    const v = (value as unknown as Record<string, unknown>)[type];
    if (type === 'N' && !/^-?[0-9]+(\.[0-9]+)?$/.test(v as string)) throw new Error(`${name} is not a number`);
    if (type === 'SS' && (v as string[]).length === 0) throw new Error(`${name} is an empty set`);
    out[name] = type === 'N' ? Number(v) : v;
  }
  for (const name of ALWAYS) if (!(name in out)) throw new Error(`${name} is always written by the KCL`);
  const cp = out.checkpoint as string;
  if (!SENTINELS.has(cp) && !/^[0-9]+$/.test(cp)) throw new Error(`checkpoint ${cp} is neither a sentinel nor a sequence number`);
  if ('pendingCheckpoint' in out !== 'pendingCheckpointSubSequenceNumber' in out) throw new Error('pending checkpoint pair incomplete');
  if ('startingHashKey' in out !== 'endingHashKey' in out) throw new Error('hash range incomplete');
  return out;
}

async function rawScan(): Promise<Map<string, Item>> {
  const out = await fleet.admin.client.send(new ScanCommand({ TableName: fleet.table.tableName, ConsistentRead: true }));
  return new Map((out.Items ?? []).map((i) => [i.leaseKey!.S!, i]));
}

async function rawGet(key: string): Promise<Item> {
  const out = await fleet.admin.client.send(
    new GetItemCommand({ TableName: fleet.table.tableName, Key: { leaseKey: { S: key } }, ConsistentRead: true }),
  );
  return out.Item!;
}

async function seedKclTable(): Promise<void> {
  fleet = newFleet('kcl');
  await fleet.table.ensureTable();
  for (const item of [...Object.values(KCL_ITEMS), ...NON_LEASE_ITEMS]) {
    await fleet.admin.client.send(new PutItemCommand({ TableName: fleet.table.tableName, Item: item }));
  }
}

describe('reading a table written by the Java KCL', () => {
  it('decodes every lease attribute with its KCL type and skips non-LEASE entity items', async () => {
    await seedKclTable();
    const leases = await fleet.table.listLeases();
    expect(leases.map((l) => l.leaseKey).sort()).toEqual(Object.keys(KCL_ITEMS).sort());
    const byKey = new Map(leases.map((l) => [l.leaseKey, l]));
    expect(byKey.get('shardId-000000000002')).toEqual({
      leaseKey: 'shardId-000000000002',
      shardId: 'shardId-000000000002',
      leaseOwner: 'java-worker-1',
      leaseCounter: 41n,
      ownerSwitchesSinceCheckpoint: 2,
      checkpoint: { sequenceNumber: SEQ_A, subSequenceNumber: 3 },
      parentShardIds: ['shardId-000000000000'],
      childShardIds: [],
      hashKeyRange: { startingHashKey: '0', endingHashKey: MID },
    });
    expect(byKey.get('shardId-000000000003')).toMatchObject({ throughputKBps: 12.345678, leaseOwner: 'java3-worker' });
    expect(byKey.get('shardId-000000000004')).toMatchObject({ checkpointOwner: 'java3-worker', leaseOwner: 'java3-worker-b' });
    expect(byKey.get('shardId-000000000005')).toMatchObject({
      pendingCheckpoint: { sequenceNumber: SEQ_B, subSequenceNumber: 4 },
      pendingCheckpointState: new Uint8Array([0xca, 0xfe, 0x00, 0x01]),
    });
    const quirk = byKey.get('shardId-000000000006')!;
    expect(quirk.pendingCheckpoint).toEqual({ sequenceNumber: SEQ_A, subSequenceNumber: 0 });
    expect(quirk.pendingCheckpointState).toBeUndefined(); // the N quirk carries no state
    expect(byKey.get('shardId-000000000000')).toMatchObject({
      checkpoint: { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 },
      childShardIds: ['shardId-000000000002', 'shardId-000000000007'],
    });
    expect(byKey.get('123456789012:orders:1700000000:shardId-000000000001')).toMatchObject({
      shardId: 'shardId-000000000001',
      streamIdentifier: '123456789012:orders:1700000000',
      checkpoint: { sequenceNumber: 'AT_TIMESTAMP', subSequenceNumber: 0 },
    });
    expect(parseLeaseKey('123456789012:orders:1700000000:shardId-000000000001')).toMatchObject({
      shardId: 'shardId-000000000001',
      streamIdentifier: '123456789012:orders:1700000000',
    });
  });

  it('takes over a Java fleet: expired KCL leases are taken, handoff leases are left alone, unknown attributes survive our writes', async () => {
    await seedKclTable();
    const w = fleet.addWorker('ts-worker');
    await w.coordinator.start();
    // Java owners are alive until their counters stand still for failoverTimeMillis.
    await w.coordinator.runTakerOnce();
    expect(w.coordinator.getHeldLease('shardId-000000000002')).toBeUndefined();
    await fleet.advance(12_000, 200);
    for (let i = 0; i < 6; i++) await w.coordinator.runTakerOnce();
    const held = w.coordinator.heldLeases().map((h) => h.leaseKey).sort();
    // Not the handoff lease, nor the multi-stream one (another application's: never taken).
    expect(held).toEqual(Object.keys(KCL_ITEMS).filter((k) => k !== 'shardId-000000000004' && parseLeaseKey(k).streamIdentifier === undefined).sort());

    const taken = w.coordinator.getHeldLease('shardId-000000000002')!;
    expect(taken.lease).toMatchObject({ ownerSwitchesSinceCheckpoint: 3, checkpoint: { sequenceNumber: SEQ_A, subSequenceNumber: 3 } });

    // Checkpoint the 3.5 lease and commit over the prepared one.
    const cp3 = w.coordinator.createCheckpointer('shardId-000000000003');
    cp3.setLargestPermitted({ sequenceNumber: SEQ_B, subSequenceNumber: 1 });
    await cp3.checkpoint();
    const cp5 = w.coordinator.createCheckpointer('shardId-000000000005');
    expect(cp5.pendingCheckpoint).toEqual({ sequenceNumber: SEQ_B, subSequenceNumber: 4, applicationState: new Uint8Array([0xca, 0xfe, 0x00, 0x01]) });
    cp5.setLargestPermitted({ sequenceNumber: SEQ_B, subSequenceNumber: 4 });
    await cp5.checkpoint(SEQ_B, 4);
    await fleet.advance(7_000, 200); // a couple of renewals

    const item3 = await rawGet('shardId-000000000003');
    expect(item3.throughputKBps).toEqual({ N: '12.345678' });
    expect(item3.entityType).toEqual({ S: 'LEASE' });
    expect(item3.someFutureAttribute).toEqual(KCL_ITEMS['shardId-000000000003']!.someFutureAttribute);
    expect(item3.startingHashKey).toEqual({ S: '170141183460469231731687303715884105728' });
    expect(item3.leaseOwner).toEqual({ S: 'ts-worker' });
    expect(item3.checkpoint).toEqual({ S: SEQ_B });
    expect(item3.checkpointSubSequenceNumber).toEqual({ N: '1' });
    const item5 = await rawGet('shardId-000000000005');
    expect(item5.checkpoint).toEqual({ S: SEQ_B });
    expect(item5.checkpointSubSequenceNumber).toEqual({ N: '4' });
    expect(item5.pendingCheckpoint).toBeUndefined();
    expect(item5.pendingCheckpointState).toBeUndefined();
    const multi = await rawGet('123456789012:orders:1700000000:shardId-000000000001');
    expect(multi).toEqual(KCL_ITEMS['123456789012:orders:1700000000:shardId-000000000001']);
    // The handoff lease was not written at all.
    expect(await rawGet('shardId-000000000004')).toEqual(KCL_ITEMS['shardId-000000000004']);

    // Non-lease items are untouched, byte for byte.
    const all = await rawScan();
    for (const item of NON_LEASE_ITEMS) expect(all.get(item.leaseKey!.S!)).toEqual(item);
    // And every lease item still decodes as the KCL would read it (except attributes KCL 3.x added itself).
    for (const [key, item] of all) {
      if (NON_LEASE_ITEMS.some((n) => n.leaseKey!.S === key)) continue;
      const { someFutureAttribute: _ignored, ...kclKnown } = item;
      expect(() => kclDecode(kclKnown)).not.toThrow();
    }
  });
});

describe('items written by kinesis-kit, read as the KCL reads them', () => {
  it('use exactly the KCL names and types through create, take, renew, checkpoint, prepare and release', async () => {
    fleet = newFleet('ours');
    await fleet.table.ensureTable();
    await fleet.table.createLeaseIfNotExists({
      leaseKey: 'shardId-000000000010',
      checkpoint: { sequenceNumber: 'TRIM_HORIZON' },
      parentShardIds: ['shardId-000000000008', 'shardId-000000000009'],
      hashKeyRange: { startingHashKey: '0', endingHashKey: MAX },
    });
    await fleet.table.createLeaseIfNotExists({
      leaseKey: '123456789012:orders:1700000000:shardId-000000000011',
      checkpoint: { sequenceNumber: 'LATEST' },
    });
    let item = await rawGet('shardId-000000000010');
    expect(kclDecode(item)).toEqual({
      leaseKey: 'shardId-000000000010',
      leaseCounter: 0,
      ownerSwitchesSinceCheckpoint: 0,
      checkpoint: 'TRIM_HORIZON',
      checkpointSubSequenceNumber: 0,
      parentShardId: ['shardId-000000000008', 'shardId-000000000009'],
      startingHashKey: '0',
      endingHashKey: MAX,
    });
    expect(kclDecode(await rawGet('123456789012:orders:1700000000:shardId-000000000011'))).toMatchObject({
      streamName: '123456789012:orders:1700000000',
      shardId: 'shardId-000000000011',
    });

    const w = fleet.addWorker('ts-worker');
    await w.coordinator.start();
    await w.coordinator.runTakerOnce();
    await w.coordinator.runTakerOnce();
    // The multi-stream lease is written with the KCL's names and types, but never taken by the taker.
    expect(w.coordinator.heldLeases().map((h) => h.leaseKey)).toEqual(['shardId-000000000010']);
    item = await rawGet('shardId-000000000010');
    // Taken while unowned: not an owner switch (KCL: ADD 1 only if the previous owner was set and differs).
    expect(kclDecode(item)).toMatchObject({ leaseOwner: 'ts-worker', leaseCounter: 1, ownerSwitchesSinceCheckpoint: 0 });

    const cp = w.coordinator.createCheckpointer('shardId-000000000010');
    cp.setLargestPermitted({ sequenceNumber: SEQ_A, subSequenceNumber: 2 });
    await cp.prepareCheckpoint(new Uint8Array([1, 2, 3]));
    item = await rawGet('shardId-000000000010');
    expect(kclDecode(item)).toMatchObject({
      leaseCounter: 2,
      checkpoint: 'TRIM_HORIZON',
      pendingCheckpoint: SEQ_A,
      pendingCheckpointSubSequenceNumber: 2,
    });
    expect(item.pendingCheckpointState?.B).toEqual(new Uint8Array([1, 2, 3]));

    await cp.checkpoint();
    await fleet.advance(4_000, 200);
    item = await rawGet('shardId-000000000010');
    const decoded = kclDecode(item);
    expect(decoded).toMatchObject({ checkpoint: SEQ_A, checkpointSubSequenceNumber: 2, ownerSwitchesSinceCheckpoint: 0 });
    expect(decoded).not.toHaveProperty('pendingCheckpoint');
    expect(decoded).not.toHaveProperty('pendingCheckpointState');
    expect(decoded.leaseCounter).toBeGreaterThanOrEqual(4);

    expect(await fleet.table.updateLeaseMetadata('shardId-000000000010', { childShardIds: ['shardId-000000000012'] })).toBe(true);
    expect(await fleet.table.updateLeaseMetadata('shardId-999999999999', { childShardIds: ['x'] })).toBe(false);
    const counterBefore = kclDecode(await rawGet('shardId-000000000010')).leaseCounter;
    expect(kclDecode(await rawGet('shardId-000000000010'))).toMatchObject({ childShardIds: ['shardId-000000000012'], leaseCounter: counterBefore });

    await w.coordinator.stop();
    item = await rawGet('shardId-000000000010');
    const released = kclDecode(item);
    expect(released).not.toHaveProperty('leaseOwner');
    expect(released.leaseCounter).toBe((counterBefore as number) + 1);
  });
});

describe('ownerSwitchesSinceCheckpoint on take (KCL getDynamoTakeLeaseUpdate: ADD 1 only if oldOwner != null && !oldOwner.equals(owner))', () => {
  async function switches(key: string): Promise<number> {
    return kclDecode(await rawGet(key)).ownerSwitchesSinceCheckpoint as number;
  }

  it('unowned -> owned does not count, neither for a new lease nor for one released by a graceful stop', async () => {
    fleet = newFleet('switches');
    await fleet.table.ensureTable();
    const key = 'shardId-000000000020';
    await fleet.table.createLeaseIfNotExists({ leaseKey: key, checkpoint: { sequenceNumber: 'TRIM_HORIZON' } });

    const a = fleet.addWorker('worker-a');
    await a.coordinator.start();
    await a.coordinator.runTakerOnce();
    expect(a.coordinator.getHeldLease(key)?.lease.ownerSwitchesSinceCheckpoint).toBe(0);
    expect(await switches(key)).toBe(0);

    await a.coordinator.stop(); // releases: REMOVE leaseOwner
    expect(kclDecode(await rawGet(key))).not.toHaveProperty('leaseOwner');
    const b = fleet.addWorker('worker-b');
    await b.coordinator.start();
    await b.coordinator.runTakerOnce();
    expect(b.coordinator.getHeldLease(key)?.lease).toMatchObject({ leaseOwner: 'worker-b', ownerSwitchesSinceCheckpoint: 0 });
    expect(await switches(key)).toBe(0);
  });

  it('owner A -> owner B counts one switch per take; our own lease taken back (same worker id) does not', async () => {
    fleet = newFleet('switches');
    await fleet.table.ensureTable();
    const key = 'shardId-000000000021';
    await fleet.table.createLeaseIfNotExists({ leaseKey: key, checkpoint: { sequenceNumber: 'TRIM_HORIZON' } });
    const take = async (owner: string) => {
      const observed = (await fleet.table.getLease(key))!;
      const result = await fleet.table.takeLease(observed, owner);
      expect(result.ok).toBe(true);
      return result.ok ? result.lease : undefined;
    };

    expect(await take('worker-a')).toMatchObject({ leaseOwner: 'worker-a', ownerSwitchesSinceCheckpoint: 0 });
    expect(await take('worker-b')).toMatchObject({ leaseOwner: 'worker-b', ownerSwitchesSinceCheckpoint: 1 });
    expect(await switches(key)).toBe(1);
    expect(await take('worker-b')).toMatchObject({ leaseOwner: 'worker-b', ownerSwitchesSinceCheckpoint: 1 });
    expect(await take('worker-a')).toMatchObject({ leaseOwner: 'worker-a', ownerSwitchesSinceCheckpoint: 2 });
    expect(kclDecode(await rawGet(key))).toMatchObject({ leaseOwner: 'worker-a', leaseCounter: 4, ownerSwitchesSinceCheckpoint: 2 });
  });
});

describe('a KCL 3.x graceful handoff (checkpointOwner set)', () => {
  const HANDOFF = 'shardId-000000000004';

  /** The old owner renews during its handoff (the counter moves), as a live KCL 3.x worker does. */
  async function renewAsKcl(): Promise<void> {
    await fleet.admin.client.send(
      new UpdateItemCommand({
        TableName: fleet.table.tableName,
        Key: { leaseKey: { S: HANDOFF } },
        UpdateExpression: 'ADD leaseCounter :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
  }

  it('is left alone while the KCL workers are alive, however long it takes', async () => {
    await seedKclTable();
    const w = fleet.addWorker('ts-worker');
    await w.coordinator.start();
    for (let second = 0; second < 60; second += 3) {
      await renewAsKcl();
      await fleet.advance(3_000, 250);
      await w.coordinator.runTakerOnce();
    }
    expect(w.coordinator.getHeldLease(HANDOFF)).toBeUndefined();
    expect((await rawGet(HANDOFF)).checkpointOwner).toEqual({ S: 'java3-worker' });
  });

  it('abandoned by both KCL workers: taken once silent for the failover time plus the KCL handoff timeout, checkpointOwner cleared, checkpoint kept', async () => {
    await seedKclTable();
    const w = fleet.addWorker('ts-worker');
    await w.coordinator.start();
    await w.coordinator.runTakerOnce(); // first sight of the counter
    // Silent past the failover time, but the KCL leader could still force the handoff: not yet.
    await fleet.advance(35_000, 500);
    await w.coordinator.runTakerOnce();
    expect(w.coordinator.getHeldLease(HANDOFF)).toBeUndefined();
    expect(await rawGet(HANDOFF)).toEqual(KCL_ITEMS[HANDOFF]);
    // Past failover (10 s) + the handoff timeout (30 s): reassigned, as the 3.x leader would.
    await fleet.advance(6_000, 500);
    await w.coordinator.runTakerOnce();
    const held = w.coordinator.getHeldLease(HANDOFF);
    expect(held?.acquisition).toBe('taken');
    expect(held?.lease).toMatchObject({ checkpoint: { sequenceNumber: SEQ_B, subSequenceNumber: 0 } });
    const item = await rawGet(HANDOFF);
    expect(item.checkpointOwner).toBeUndefined();
    expect(item.leaseOwner).toEqual({ S: 'ts-worker' });
    expect(item.ownerSwitchesSinceCheckpoint).toEqual({ N: '2' });
    expect(item.checkpoint).toEqual({ S: SEQ_B });
    expect(() => kclDecode(item)).not.toThrow();
  });
});
