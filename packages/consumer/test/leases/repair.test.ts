/**
 * Repairing hand-edited lease rows (findLeaseProblems / planLeaseRepair / LeaseTable.applyRepair)
 * against dynalite: a row with a non-integer leaseCounter, which every worker skips, becomes
 * takeable; an unreadable checkpoint is reset; unknown attributes survive; a row that changes
 * between the read and the write is left alone.
 */
import { describe, expect, it } from 'vitest';
import { GetItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { findLeaseProblems, planLeaseRepair } from '@kinesis-kit/consumer';
import { type Fleet, useFleetPerTest } from './harness.js';

type Item = Record<string, AttributeValue>;

const SEQ = '49590338271490256608559692538361571095921575989136588898';

const newFleet = useFleetPerTest();
let fleet: Fleet;

async function put(items: Item[]): Promise<void> {
  await fleet.table.ensureTable();
  for (const Item of items) await fleet.admin.client.send(new PutItemCommand({ TableName: fleet.table.tableName, Item }));
}

async function get(leaseKey: string): Promise<Item> {
  const out = await fleet.admin.client.send(new GetItemCommand({ TableName: fleet.table.tableName, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }));
  return out.Item!;
}

describe('lease table repair', () => {
  it('makes a row with a non-integer leaseCounter takeable and resets an unreadable checkpoint', async () => {
    fleet = newFleet('repair');
    await put([
      { leaseKey: { S: 'shardId-000000000000' }, leaseCounter: { S: 'twelve' }, leaseOwner: { S: 'gone' }, checkpoint: { S: SEQ }, checkpointSubSequenceNumber: { N: '0' } },
      {
        leaseKey: { S: 'shardId-000000000001' },
        leaseCounter: { N: '4' },
        checkpoint: { S: 'not-a-position' },
        checkpointSubSequenceNumber: { N: '2' },
        pendingCheckpoint: { S: SEQ },
        pendingCheckpointSubSequenceNumber: { N: '0' },
        someFutureKclAttribute: { S: 'kept' },
      },
      { leaseKey: { S: 'shardId-000000000002' }, leaseCounter: { N: '9' }, checkpoint: { S: 'TRIM_HORIZON' }, checkpointSubSequenceNumber: { N: '0' } },
    ]);
    const items = await fleet.table.scanItems();
    expect(items.flatMap(findLeaseProblems).map((p) => `${p.leaseKey} ${p.kind}`).sort()).toEqual([
      'shardId-000000000000 bad-lease-counter',
      'shardId-000000000001 bad-checkpoint',
    ]);
    // Before the repair, workers do not see the row with the bad counter at all.
    expect((await fleet.table.listLeases()).map((l) => l.leaseKey).sort()).toEqual(['shardId-000000000001', 'shardId-000000000002']);

    for (const item of items) {
      const plan = planLeaseRepair(item);
      if (plan) expect(await fleet.table.applyRepair(plan)).toBe(true);
    }
    expect((await fleet.table.scanItems()).flatMap(findLeaseProblems)).toEqual([]);
    const freed = await get('shardId-000000000000');
    expect(freed).toMatchObject({ leaseCounter: { N: '1' }, checkpoint: { S: SEQ } });
    expect(freed.leaseOwner).toBeUndefined();
    const reset = await get('shardId-000000000001');
    expect(reset).toMatchObject({ leaseCounter: { N: '5' }, checkpoint: { S: 'TRIM_HORIZON' }, checkpointSubSequenceNumber: { N: '0' }, someFutureKclAttribute: { S: 'kept' } });
    expect(reset.pendingCheckpoint).toBeUndefined();
    expect(reset.pendingCheckpointSubSequenceNumber).toBeUndefined();
    expect(await get('shardId-000000000002')).toMatchObject({ leaseCounter: { N: '9' } });

    // The repaired row is now a lease like any other, and free: a worker takes it without waiting
    // for it to expire (a few passes: a starting worker takes leases a few at a time).
    const worker = fleet.addWorker('w1');
    await worker.coordinator.start();
    for (let i = 0; i < 4; i++) await worker.coordinator.runTakerOnce();
    expect(worker.coordinator.getHeldLease('shardId-000000000000')).toBeDefined();
  });

  it('writes nothing when the row changed after it was read', async () => {
    fleet = newFleet('repair');
    await put([{ leaseKey: { S: 'shardId-000000000000' }, leaseCounter: { N: '3' }, leaseOwner: { S: 'w1' }, checkpoint: { S: 'garbage' } }]);
    const [item] = await fleet.table.scanItems();
    const plan = planLeaseRepair(item!)!;
    // The owner renews (or checkpoints) in between.
    await fleet.admin.client.send(
      new UpdateItemCommand({ TableName: fleet.table.tableName, Key: { leaseKey: { S: 'shardId-000000000000' } }, UpdateExpression: 'SET leaseCounter = :n', ExpressionAttributeValues: { ':n': { N: '4' } } }),
    );
    expect(await fleet.table.applyRepair(plan)).toBe(false);
    expect(await get('shardId-000000000000')).toMatchObject({ leaseCounter: { N: '4' }, checkpoint: { S: 'garbage' } });
    // Read again, repair again: now it applies.
    const [again] = await fleet.table.scanItems();
    expect(await fleet.table.applyRepair(planLeaseRepair(again!)!)).toBe(true);
    expect(await get('shardId-000000000000')).toMatchObject({ leaseCounter: { N: '5' }, checkpoint: { S: 'TRIM_HORIZON' } });
  });

  it('does not recreate a row deleted after it was read', async () => {
    fleet = newFleet('repair');
    await put([{ leaseKey: { S: 'shardId-000000000007' }, checkpoint: { S: SEQ } }]);
    const [item] = await fleet.table.scanItems();
    await fleet.table.deleteLease('shardId-000000000007');
    expect(await fleet.table.applyRepair(planLeaseRepair(item!)!)).toBe(false);
    expect(await fleet.table.scanItems()).toEqual([]);
  });
});
