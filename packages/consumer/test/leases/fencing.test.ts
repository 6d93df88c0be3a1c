import { describe, expect, it } from 'vitest';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InMemoryMetricsSink, MemoryLogger, type LogEntry } from '@kinesis-kit/core';
import { LeaseLostError, type LeaseAcquiredEvent, type LeaseLostEvent, type LeaseRenewalFailedEvent } from '@kinesis-kit/consumer';
import { type Fleet, type FleetWorker, HAND_RUN_TAKER, seedLeases, shardId, throttled, useFleetPerTest } from './harness.js';

const newFleet = useFleetPerTest();
let fleet: Fleet;

async function oneWorker(leases: number, options: Parameters<Fleet['addWorker']>[1] = {}): Promise<FleetWorker> {
  fleet = newFleet('fence');
  const w = fleet.addWorker('worker-a', options);
  await w.coordinator.start();
  await seedLeases(fleet.table, leases);
  for (let i = 0; i < 6 && w.coordinator.heldLeases().length < leases; i++) await w.coordinator.runTakerOnce();
  expect(w.coordinator.heldLeases()).toHaveLength(leases);
  return w;
}

async function counterOf(key: string): Promise<bigint> {
  const out = await fleet.admin.client.send(new GetItemCommand({ TableName: fleet.table.tableName, Key: { leaseKey: { S: key } }, ConsistentRead: true }));
  return BigInt((out.Item?.leaseCounter as { N: string }).N);
}

describe('counter fencing', () => {
  it('stops two owners of one lease: the stale owner loses it on renew and on checkpoint; the checkpoint survives the takeover', async () => {
    const a = await oneWorker(2);
    const cpA = a.coordinator.createCheckpointer(shardId(0));
    const cpA1 = a.coordinator.createCheckpointer(shardId(1));
    cpA.setLargestPermitted({ sequenceNumber: '1000', subSequenceNumber: 7 });
    await cpA.checkpoint('1000', 7);

    const b = fleet.addWorker('worker-b');
    await b.coordinator.start();
    const acquired: LeaseAcquiredEvent[] = [];
    b.coordinator.on('leaseAcquired', (e) => void acquired.push(e));
    const lostA: LeaseLostEvent[] = [];
    a.coordinator.on('leaseLost', (e) => void lostA.push(e));

    const pass = await b.coordinator.runTakerOnce();
    expect(pass).toMatchObject({ stolen: 1, target: 1, workers: 2 });
    const stolenKey = acquired[0]!.leaseKey;
    expect(acquired[0]).toMatchObject({ acquisition: 'stolen', previousOwner: 'worker-a' });

    // A finds out at its next renewal (or taker scan, whichever comes first).
    await fleet.advance(2_000);
    await a.coordinator.runRenewalOnce();
    expect(a.coordinator.heldLeases().map((h) => h.leaseKey)).toEqual([stolenKey === shardId(0) ? shardId(1) : shardId(0)]);
    expect(lostA).toEqual([expect.objectContaining({ leaseKey: stolenKey, reason: 'conflict', currentOwner: 'worker-b' })]);
    const staleCp = stolenKey === shardId(0) ? cpA : cpA1;
    await expect(staleCp.checkpoint()).rejects.toBeInstanceOf(LeaseLostError);

    // The thief sees the checkpoint the previous owner wrote, and one more owner switch.
    const stolenLease = acquired[0]!.lease;
    if (stolenKey === shardId(0)) {
      expect(stolenLease.checkpoint).toEqual({ sequenceNumber: '1000', subSequenceNumber: 7 });
      expect(b.coordinator.createCheckpointer(stolenKey).lastCheckpoint).toEqual({ sequenceNumber: '1000', subSequenceNumber: 7 });
    }
    // Taking the unowned leases was no switch (KCL); the steal from worker-a is one, checkpointed or not.
    expect(stolenLease.ownerSwitchesSinceCheckpoint).toBe(1);
    // The new owner keeps renewing it; the old one never writes it again.
    const counter = await counterOf(stolenKey);
    await fleet.advance(10_000);
    expect(b.coordinator.heldLeases().map((h) => h.leaseKey)).toEqual([stolenKey]);
    expect(await counterOf(stolenKey)).toBeGreaterThan(counter);
    expect((await fleet.table.getLease(stolenKey))?.leaseOwner).toBe('worker-b');
  });

  it('a stale owner whose checkpoint races a steal fails with LeaseLostError and does not overwrite the thief', async () => {
    const a = await oneWorker(1);
    const cp = a.coordinator.createCheckpointer(shardId(0));
    cp.setLargestPermitted({ sequenceNumber: '500' });
    const observed = (await fleet.table.getLease(shardId(0)))!;
    expect((await fleet.table.takeLease(observed, 'worker-z')).ok).toBe(true);
    await expect(cp.checkpoint('500')).rejects.toMatchObject({ code: 'LEASE_LOST', leaseKey: shardId(0) });
    const now = await fleet.table.getLease(shardId(0));
    expect(now).toMatchObject({ leaseOwner: 'worker-z', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 } });
  });

  it('a failed conditional renewal means lost: the HeldLease signal aborts with a LeaseLostError (for in-flight work)', async () => {
    const a = await oneWorker(1, HAND_RUN_TAKER); // keep the taker out of it
    const held = a.coordinator.getHeldLease(shardId(0))!;
    const observed = (await fleet.table.getLease(shardId(0)))!;
    await fleet.table.takeLease(observed, 'worker-z');
    await fleet.clock.advance(2_000);
    expect(await a.coordinator.runRenewalOnce()).toMatchObject({ lost: 1, renewed: 0 });
    expect(held.signal.aborted).toBe(true);
    expect(held.signal.reason).toBeInstanceOf(LeaseLostError);
    expect(held.state).toBe('lost');
  });
});

describe('renewal under DynamoDB throttling', () => {
  it('throttled renewals are retried within the tick and never lose the lease', async () => {
    const metrics = new InMemoryMetricsSink();
    const a = await oneWorker(3, { metrics });
    const before = await counterOf(shardId(0));
    let failures = 0;
    a.io.setFault((name) => (name === 'UpdateItemCommand' && failures++ < 5 ? throttled() : undefined));
    const lost: LeaseLostEvent[] = [];
    a.coordinator.on('leaseLost', (e) => void lost.push(e));
    await fleet.clock.advance(2_000);
    const pass = a.coordinator.runRenewalOnce();
    await fleet.advance(3_000, 20);
    const result = await pass;
    expect(result).toMatchObject({ renewed: 3, lost: 0, expired: 0, failed: 0 });
    expect(lost).toEqual([]);
    expect(await counterOf(shardId(0))).toBeGreaterThan(before);
    expect(metrics.get('RenewLease.Success', { Operation: 'RenewAllLeases' }).sum).toBeGreaterThanOrEqual(3);
  });

  it('a tick that stays throttled reports leaseRenewalFailed and keeps the lease; it is only dropped (as expired) after failover', async () => {
    const a = await oneWorker(1);
    const failed: LeaseRenewalFailedEvent[] = [];
    const lost: LeaseLostEvent[] = [];
    a.coordinator.on('leaseRenewalFailed', (e) => void failed.push(e));
    a.coordinator.on('leaseLost', (e) => void lost.push(e));
    a.io.setFault((name) => (name === 'UpdateItemCommand' || name === 'ScanCommand' ? throttled() : undefined));

    await fleet.advance(8_000, 50);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]).toMatchObject({ leaseKey: shardId(0), errorKind: 'throttling' });
    expect(a.coordinator.heldLeases()).toHaveLength(1);
    expect(lost).toEqual([]);

    // Throttled for longer than failover: peers may consider it dead, so we must stop using it.
    await fleet.advance(6_000, 50);
    expect(lost).toEqual([expect.objectContaining({ leaseKey: shardId(0), reason: 'expired' })]);
    expect(a.coordinator.heldLeases()).toHaveLength(0);

    // Once DynamoDB recovers, the table still names us: the taker takes it back at once.
    a.io.setFault(undefined);
    await fleet.advance(3_000, 50);
    expect(a.coordinator.heldLeases()).toHaveLength(1);
  });

  it('renewals failing alike on every lease are logged once per error code in 10 s; each still reports leaseRenewalFailed', async () => {
    const logger = new MemoryLogger();
    // Failover 45 s: a renewal pass about every 15 s, and nothing expires within the test.
    const a = await oneWorker(6, { logger, failoverTimeMillis: 45_000 });
    let failed = 0;
    a.coordinator.on('leaseRenewalFailed', () => void (failed += 1));
    const denied = Object.assign(new Error('not authorized to perform dynamodb:UpdateItem'), { name: 'AccessDeniedException' });
    a.io.setFault((name) => (name === 'UpdateItemCommand' || name === 'ScanCommand' ? denied : undefined));
    await fleet.advance(16_000, 50);
    const said = (): LogEntry[] => logger.entries.filter((e) => e.message === 'lease renewal failed; still held');
    expect(failed).toBe(6);
    expect(said()).toHaveLength(1);
    expect(said()[0]!.fields).toMatchObject({ leaseKey: expect.any(String) as string, err: { code: 'DYNAMODB_ERROR' } });
    await fleet.advance(15_000, 50); // the next pass, over 10 s after the first said: said again, with the 5 unsaid
    expect(failed).toBe(12);
    expect(said()).toHaveLength(2);
    expect(said()[1]!.fields).toMatchObject({ suppressed: 5 });
    expect(a.coordinator.heldLeases()).toHaveLength(6);
    a.io.setFault(undefined);
  });

  it('a lease expired locally leaves heldLeases() at once; confirmHeld drops it before the next pass, and LostLeases counts it', async () => {
    const metrics = new InMemoryMetricsSink();
    const FAILOVER = 1_500; // a pass every 475 ms: expiry falls 25 ms after one, 450 ms before the next
    const a = await oneWorker(1, { metrics, failoverTimeMillis: FAILOVER });
    const held = a.coordinator.getHeldLease(shardId(0))!;
    const lost: LeaseLostEvent[] = [];
    a.coordinator.on('leaseLost', (e) => void lost.push(e));
    a.io.setFault((name) => (name === 'UpdateItemCommand' || name === 'ScanCommand' ? throttled() : undefined));
    while (fleet.clock.monotonic() - held.lastRenewedAt <= FAILOVER) await fleet.advance(10, 10);

    expect(lost).toEqual([]); // no renewal pass since it expired
    expect(held.isHeld).toBe(true);
    expect(a.coordinator.heldLeases()).toEqual([]);
    expect(a.coordinator.getHeldLease(shardId(0))).toBeUndefined();
    expect(a.coordinator.confirmHeld(held)).toBe(false);
    expect(lost).toEqual([expect.objectContaining({ leaseKey: shardId(0), reason: 'expired' })]);
    expect(held.signal.aborted).toBe(true);

    // Found outside a pass, the loss is still reported by the next pass's LostLeases.
    const lostLeases = () => metrics.get('LostLeases', { Operation: 'RenewAllLeases' }).sum;
    expect(lostLeases()).toBe(0);
    await fleet.advance(500, 50);
    expect(lostLeases()).toBe(1);
  });

  it('a renewal that landed but whose answer was lost is recognised on retry (GetItem confirms it was our own write)', async () => {
    const a = await oneWorker(1);
    let dropAnswer = true;
    a.io.setFault(undefined);
    a.io.client.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        if (dropAnswer && (args.input as { UpdateExpression?: string }).UpdateExpression === 'SET #counter = :next') {
          dropAnswer = false;
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        return out;
      },
      { step: 'initialize', name: 'dropFirstRenewAnswer', priority: 'low' },
    );
    const lost: LeaseLostEvent[] = [];
    a.coordinator.on('leaseLost', (e) => void lost.push(e));
    await fleet.clock.advance(2_000);
    const pass = a.coordinator.runRenewalOnce();
    await fleet.advance(2_000, 20);
    expect(await pass).toMatchObject({ renewed: 1, lost: 0 });
    expect(lost).toEqual([]);
    const held = a.coordinator.getHeldLease(shardId(0))!;
    expect(await counterOf(shardId(0))).toBe(held.leaseCounter);
    expect(a.io.counts.get('GetItemCommand') ?? 0).toBeGreaterThanOrEqual(1);
  });

  it('renewal never waits on application code: a processor stuck forever does not stop renewals', async () => {
    const a = await oneWorker(2);
    const cp = a.coordinator.createCheckpointer(shardId(0));
    // An application awaiting something that never happens, holding the checkpointer.
    const stuck = new Promise<void>(() => {});
    void stuck.then(() => cp.checkpoint());
    const before = await counterOf(shardId(0));
    await fleet.advance(60_000, 250);
    expect(a.coordinator.heldLeases()).toHaveLength(2);
    const after = await counterOf(shardId(0));
    // One renewal per 3308 ms tick, minus the first tick after the take (skipped: just written).
    expect(Number(after - before)).toBeGreaterThanOrEqual(15);
  });
});
