import { describe, expect, it } from 'vitest';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { UserRecord } from '@kinesis-kit/aggregation';
import {
  CheckpointThrottledError,
  InvalidCheckpointError,
  LeaseLostError,
  type ShardCheckpointer,
} from '@kinesis-kit/consumer';
import { type Fleet, type FleetWorker, seedLeases, shardId, throttled, useFleetPerTest } from './harness.js';

const newFleet = useFleetPerTest();
let fleet: Fleet;

const SEQ = (n: number): string => (49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_800n + BigInt(n)).toString();

/** One worker holding one lease (shardId-000000000000) and its checkpointer. */
async function holdOne(leases = 1): Promise<{ w: FleetWorker; cp: ShardCheckpointer }> {
  fleet = newFleet('cp');
  const w = fleet.addWorker('worker-a');
  await w.coordinator.start();
  await seedLeases(fleet.table, leases);
  for (let i = 0; i < 5 && w.coordinator.heldLeases().length < leases; i++) await w.coordinator.runTakerOnce();
  const cp = w.coordinator.createCheckpointer(shardId(0));
  return { w, cp };
}

async function rawItem(key = shardId(0)): Promise<Record<string, unknown>> {
  const out = await fleet.admin.client.send(new GetItemCommand({ TableName: fleet.table.tableName, Key: { leaseKey: { S: key } }, ConsistentRead: true }));
  return out.Item ?? {};
}

function updateCount(w: FleetWorker): number {
  return w.io.counts.get('UpdateItemCommand') ?? 0;
}

describe('ShardCheckpointer', () => {
  it('checkpoint() writes the largest delivered position with its sub-sequence number, resets ownerSwitchesSinceCheckpoint', async () => {
    const { w, cp } = await holdOne();
    expect(cp.lastCheckpoint).toEqual({ sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 });
    cp.setLargestPermitted({ sequenceNumber: SEQ(10), subSequenceNumber: 3 });
    await cp.checkpoint();
    const item = await rawItem();
    expect(item.checkpoint).toEqual({ S: SEQ(10) });
    expect(item.checkpointSubSequenceNumber).toEqual({ N: '3' });
    expect(item.ownerSwitchesSinceCheckpoint).toEqual({ N: '0' });
    expect(item.leaseOwner).toEqual({ S: 'worker-a' });
    // The write went through the held lease's counter: renewals (timer-driven here) keep succeeding.
    await fleet.advance(12_000);
    const renewal = await w.coordinator.runRenewalOnce();
    expect(renewal.lost + renewal.expired).toBe(0);
    expect(w.coordinator.heldLeases()).toHaveLength(1);
    const counter = BigInt(((await rawItem()).leaseCounter as { N: string }).N);
    expect(counter).toBe(w.coordinator.heldLeases()[0]!.leaseCounter);
    expect(counter).toBeGreaterThanOrEqual(4n); // take + checkpoint + at least two renewals
  });

  it('checkpoint(record) uses the record sequence and sub-sequence numbers; checkpoint(seq) means sub-sequence 0', async () => {
    const { cp } = await holdOne();
    cp.setLargestPermitted({ sequenceNumber: SEQ(20), subSequenceNumber: 5 });
    const record: UserRecord = { partitionKey: 'pk', data: new Uint8Array([1]), sequenceNumber: SEQ(20), subSequenceNumber: 2, aggregated: true };
    await cp.checkpoint(record);
    expect((await rawItem()).checkpointSubSequenceNumber).toEqual({ N: '2' });
    await cp.checkpoint(SEQ(20), 4);
    expect((await rawItem()).checkpointSubSequenceNumber).toEqual({ N: '4' });
    await expect(cp.checkpoint(SEQ(20))).rejects.toMatchObject({ code: 'INVALID_CHECKPOINT', reason: 'backwards' });
  });

  it('rejects going backwards, beyond the largest delivered position and malformed input (typed, with context)', async () => {
    const { cp } = await holdOne();
    cp.setLargestPermitted({ sequenceNumber: SEQ(30) });
    await cp.checkpoint(SEQ(25));
    const backwards = await cp.checkpoint(SEQ(24)).catch((e: unknown) => e);
    expect(backwards).toBeInstanceOf(InvalidCheckpointError);
    expect(backwards).toMatchObject({ code: 'INVALID_CHECKPOINT', reason: 'backwards', sequenceNumber: SEQ(24), retriable: false, shardId: shardId(0) });
    await expect(cp.checkpoint(SEQ(31))).rejects.toMatchObject({ reason: 'beyond-delivered', sequenceNumber: SEQ(31) });
    await expect(cp.checkpoint('LATEST')).rejects.toMatchObject({ reason: 'malformed', field: 'sequenceNumber' });
    await expect(cp.checkpoint('12x')).rejects.toMatchObject({ reason: 'malformed' });
    await expect(cp.checkpoint(SEQ(26), -1)).rejects.toMatchObject({ reason: 'malformed', field: 'subSequenceNumber' });
    await expect(cp.checkpoint(SEQ(26), 1.5)).rejects.toMatchObject({ reason: 'malformed', field: 'subSequenceNumber' });
    await expect(cp.checkpoint('SHARD_END')).rejects.toMatchObject({ reason: 'shard-end-not-reached' });
    expect((await rawItem()).checkpoint).toEqual({ S: SEQ(25) });
  });

  it('a repeated checkpoint is a no-op: no DynamoDB write', async () => {
    const { w, cp } = await holdOne();
    cp.setLargestPermitted({ sequenceNumber: SEQ(40) });
    await cp.checkpoint(SEQ(40));
    const writes = updateCount(w);
    await cp.checkpoint(SEQ(40));
    await cp.checkpoint();
    expect(updateCount(w)).toBe(writes);
  });

  it('serialises concurrent calls in call order', async () => {
    const { w, cp } = await holdOne();
    cp.setLargestPermitted({ sequenceNumber: SEQ(100) });
    const before = updateCount(w);
    const results = await Promise.allSettled([
      cp.checkpoint(SEQ(50)),
      cp.checkpoint(SEQ(60)),
      cp.checkpoint(SEQ(55)), // behind 60 by the time it runs
      cp.checkpoint(SEQ(70)),
      cp.checkpoint(SEQ(70)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(updateCount(w) - before).toBe(3);
    expect((await rawItem()).checkpoint).toEqual({ S: SEQ(70) });
  });

  it('checkpoint() and prepareCheckpoint() mean what was delivered when called, not when their queued write runs', async () => {
    const { cp } = await holdOne();
    cp.setLargestPermitted({ sequenceNumber: SEQ(10) });
    const first = cp.checkpoint(SEQ(5)); // still writing when the next two are called
    const argumentLess = cp.checkpoint();
    const prepared = cp.prepareCheckpoint();
    // The next batch is delivered before those writes have run.
    cp.setLargestPermitted({ sequenceNumber: SEQ(20) });
    await first;
    await argumentLess;
    expect((await rawItem()).checkpoint).toEqual({ S: SEQ(10) });
    expect((await prepared).pendingCheckpoint).toEqual({ sequenceNumber: SEQ(10), subSequenceNumber: 0 });
    // And the limit is checked at the call too: a position beyond it is refused even if it is delivered later.
    const beyond = cp.checkpoint(SEQ(30));
    cp.setLargestPermitted({ sequenceNumber: SEQ(40) });
    await expect(beyond).rejects.toMatchObject({ reason: 'beyond-delivered', sequenceNumber: SEQ(30) });
  });

  it('limitLargestPermitted (a delivery abandoned mid-retry) lowers the limit to what was processed, never below the checkpoint', async () => {
    const { cp } = await holdOne();
    cp.setLargestPermitted({ sequenceNumber: SEQ(10) });
    await cp.checkpoint();
    cp.setLargestPermitted({ sequenceNumber: SEQ(20), subSequenceNumber: 4 }); // a batch that then fails
    cp.limitLargestPermitted({ sequenceNumber: SEQ(15), subSequenceNumber: 0 }); // processed up to 15
    expect(cp.largestPermittedCheckpoint).toEqual({ sequenceNumber: SEQ(15), subSequenceNumber: 0 });
    await expect(cp.checkpoint(SEQ(16))).rejects.toMatchObject({ reason: 'beyond-delivered' });
    await cp.checkpoint();
    expect((await rawItem()).checkpoint).toEqual({ S: SEQ(15) });
    // Nothing processed since: the limit falls back to the checkpoint, and checkpoint() writes nothing.
    cp.setLargestPermitted({ sequenceNumber: SEQ(30) });
    cp.limitLargestPermitted(undefined);
    expect(cp.largestPermittedCheckpoint).toEqual({ sequenceNumber: SEQ(15), subSequenceNumber: 0 });
    // It never raises the limit.
    cp.limitLargestPermitted({ sequenceNumber: SEQ(99) });
    expect(cp.largestPermittedCheckpoint).toEqual({ sequenceNumber: SEQ(15), subSequenceNumber: 0 });
  });

  it('serialises checkpoints with the renewer: both write through one counter, neither loses the lease', async () => {
    const { w, cp } = await holdOne();
    cp.setLargestPermitted({ sequenceNumber: SEQ(500) });
    await fleet.clock.advance(3_400);
    const writes: Promise<unknown>[] = [];
    for (let i = 1; i <= 5; i++) {
      writes.push(cp.checkpoint(SEQ(400 + i)));
      writes.push(w.coordinator.runRenewalOnce());
    }
    await Promise.all(writes);
    expect(w.coordinator.heldLeases()).toHaveLength(1);
    const item = await rawItem();
    expect(item.checkpoint).toEqual({ S: SEQ(405) });
    expect(BigInt((item.leaseCounter as { N: string }).N)).toBe(w.coordinator.heldLeases()[0]!.leaseCounter);
  });

  it('prepareCheckpoint writes only the pending fields with state; commit clears them; state is visible after restart', async () => {
    const { w, cp } = await holdOne();
    cp.setLargestPermitted({ sequenceNumber: SEQ(80), subSequenceNumber: 1 });
    const state = new TextEncoder().encode('{"offset":42}');
    const prepared = await cp.prepareCheckpoint(SEQ(79), 0, state);
    expect(prepared.pendingCheckpoint).toEqual({ sequenceNumber: SEQ(79), subSequenceNumber: 0 });
    let item = await rawItem();
    expect(item.checkpoint).toEqual({ S: 'TRIM_HORIZON' });
    expect(item.pendingCheckpoint).toEqual({ S: SEQ(79) });
    expect(item.pendingCheckpointSubSequenceNumber).toEqual({ N: '0' });
    expect(new Uint8Array((item.pendingCheckpointState as { B: Uint8Array }).B)).toEqual(state);

    // Restart (crash, same worker id): the new acquisition exposes the pending checkpoint and state.
    await w.coordinator.stop({ releaseLeases: false });
    const w2 = fleet.addWorker('worker-a');
    await w2.coordinator.start();
    const cp2 = w2.coordinator.createCheckpointer(shardId(0));
    expect(cp2.pendingCheckpoint).toEqual({ sequenceNumber: SEQ(79), subSequenceNumber: 0, applicationState: state });
    expect(w2.coordinator.getHeldLease(shardId(0))?.lease.pendingCheckpointState).toEqual(state);

    // The old checkpointer belongs to the old acquisition.
    await expect(prepared.checkpoint()).rejects.toBeInstanceOf(LeaseLostError);

    cp2.setLargestPermitted({ sequenceNumber: SEQ(80) });
    const again = await cp2.prepareCheckpoint({ sequenceNumber: SEQ(80), subSequenceNumber: 0 });
    await again.checkpoint();
    item = await rawItem();
    expect(item.checkpoint).toEqual({ S: SEQ(80) });
    expect(item.pendingCheckpoint).toBeUndefined();
    expect(item.pendingCheckpointSubSequenceNumber).toBeUndefined();
    expect(item.pendingCheckpointState).toBeUndefined();
    expect(cp2.pendingCheckpoint).toBeUndefined();
  });

  it('a prepared checkpoint cannot be committed behind a later checkpoint', async () => {
    const { cp } = await holdOne();
    cp.setLargestPermitted({ sequenceNumber: SEQ(90) });
    const prepared = await cp.prepareCheckpoint(SEQ(85));
    await cp.checkpoint(SEQ(88));
    await expect(prepared.checkpoint()).rejects.toMatchObject({ reason: 'backwards' });
  });

  it('SHARD_END only after the shard consumer reached it; checkpointing the last delivered record writes SHARD_END', async () => {
    const { cp } = await holdOne();
    cp.setLargestPermitted({ sequenceNumber: SEQ(7), subSequenceNumber: 2 });
    await expect(cp.checkpoint('SHARD_END')).rejects.toMatchObject({ reason: 'shard-end-not-reached' });
    cp.markShardEnd();
    await cp.checkpoint(SEQ(7), 2);
    expect((await rawItem()).checkpoint).toEqual({ S: 'SHARD_END' });
    expect(cp.isShardEndCheckpointed).toBe(true);
    await cp.checkpoint(); // repeat: no-op
    await cp.checkpoint(SEQ(7), 2); // still the shard end: no-op
    await expect(cp.checkpoint(SEQ(7), 1)).rejects.toMatchObject({ reason: 'backwards' });
  });

  it('explicit checkpoint("SHARD_END") at shard end', async () => {
    const { cp } = await holdOne();
    cp.markShardEnd({ sequenceNumber: SEQ(3) });
    await cp.checkpoint('SHARD_END');
    expect((await rawItem()).checkpoint).toEqual({ S: 'SHARD_END' });
  });

  it('a checkpoint on a lost lease rejects with LeaseLostError and writes nothing', async () => {
    const { w, cp } = await holdOne();
    cp.setLargestPermitted({ sequenceNumber: SEQ(5) });
    // Another worker steals the lease by counter (simulated with a direct take on the admin table).
    const lease = (await fleet.table.getLease(shardId(0)))!;
    const taken = await fleet.table.takeLease(lease, 'thief');
    expect(taken.ok).toBe(true);
    const err = await cp.checkpoint(SEQ(5)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseLostError);
    expect(err).toMatchObject({ code: 'LEASE_LOST', retriable: false, leaseKey: shardId(0), shardId: shardId(0) });
    expect(w.coordinator.heldLeases()).toHaveLength(0);
    const item = await rawItem();
    expect(item.leaseOwner).toEqual({ S: 'thief' });
    expect(item.checkpoint).toEqual({ S: 'TRIM_HORIZON' });
    // Later calls fail fast.
    await expect(cp.checkpoint()).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('a checkpoint throttled past its retries rejects with the retriable CheckpointThrottledError; the lease stays held', async () => {
    const { w, cp } = await holdOne();
    cp.setLargestPermitted({ sequenceNumber: SEQ(9) });
    w.io.setFault((name) => (name === 'UpdateItemCommand' ? throttled() : undefined));
    const pending = cp.checkpoint(SEQ(9)).catch((e: unknown) => e);
    await fleet.advance(5_000, 50);
    const err = await pending;
    expect(err).toBeInstanceOf(CheckpointThrottledError);
    expect(err).toMatchObject({ code: 'CHECKPOINT_THROTTLED', retriable: true });
    w.io.setFault(undefined);
    expect(w.coordinator.heldLeases()).toHaveLength(1);
    const retry = cp.checkpoint(SEQ(9));
    await fleet.advance(3_000, 50); // a throttled renewal may still be backing off ahead of it
    await retry;
    expect((await rawItem()).checkpoint).toEqual({ S: SEQ(9) });
  });
});
