/**
 * One lease's slow or hung DynamoDB write must not cost this worker its other leases (kcl.md 8.2:
 * renew independently of slow work). Requests on shard 0 are held in the SDK stack, ignoring their
 * abort signal, until the test lets them go; time is a ManualClock, the table dynalite.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { LeaseLostError, type LeaseLostEvent, type ShardCheckpointer } from '@kinesis-kit/consumer';
import { type Fleet, type FleetWorker, HAND_RUN_TAKER, quiesce, seedLeases, shardId, useFleetPerTest } from './harness.js';

const newFleet = useFleetPerTest();
let fleet: Fleet;
const hangs: Hang[] = [];
// Runs before the fleet is stopped (hooks unwind as a stack): nothing stays held past a test.
afterEach(() => {
  for (const hang of hangs.splice(0)) hang.releaseAll();
});

const FAILOVER = 1_500; // renewal every 1500 / 3 - 25 = 475 ms
const SEQ = '49590338271490256608559692538361571095921575989136588898';

interface Hang {
  /** Requests held right now. */
  held(): number;
  /** Lets every held request continue (into an SDK that may have aborted it meanwhile). */
  releaseAll(): void;
}

/** Holds the first request matching `match` (on this worker's client) until released; ignores its abort signal. */
function hangFirst(w: FleetWorker, match: (input: { UpdateExpression?: string; Key?: { leaseKey?: { S?: string } } }) => boolean): Hang {
  const gates: (() => void)[] = [];
  let armed = true;
  let held = 0;
  w.io.client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName;
      if (armed && name === 'UpdateItemCommand' && match(args.input as never)) {
        armed = false;
        held += 1;
        await new Promise<void>((resolve) => gates.push(resolve));
        held -= 1;
      }
      return next(args);
    },
    { step: 'initialize', name: 'hangFirst', priority: 'low' },
  );
  const hang: Hang = {
    held: () => held,
    releaseAll: () => {
      armed = false;
      for (const open of gates.splice(0)) open();
    },
  };
  hangs.push(hang);
  return hang;
}

async function holdThree(): Promise<FleetWorker> {
  fleet = newFleet('slow');
  // The taker runs only when told to (runTakerOnce), so only renewals touch the leases.
  const w = fleet.addWorker('worker-a', { failoverTimeMillis: FAILOVER, ...HAND_RUN_TAKER });
  await w.coordinator.start();
  await seedLeases(fleet.table, 3);
  for (let i = 0; i < 6 && w.coordinator.heldLeases().length < 3; i++) await w.coordinator.runTakerOnce();
  expect(w.coordinator.heldLeases()).toHaveLength(3);
  return w;
}

/** Lets real I/O finish, except the held requests. */
function settleIo(w: FleetWorker, hang: Hang): Promise<void> {
  return quiesce([fleet.admin, { ...w.io, inFlight: () => w.io.inFlight() - hang.held() }]);
}

/** Advances the clock in small steps, letting real I/O finish after each. */
async function advance(w: FleetWorker, hang: Hang, ms: number, step = 25): Promise<void> {
  for (let done = 0; done < ms; done += step) {
    await fleet.clock.advance(Math.min(step, ms - done));
    await settleIo(w, hang);
  }
}

async function counterOf(key: string): Promise<bigint> {
  const out = await fleet.admin.client.send(new GetItemCommand({ TableName: fleet.table.tableName, Key: { leaseKey: { S: key } }, ConsistentRead: true }));
  return BigInt((out.Item?.leaseCounter as { N: string }).N);
}

function settled(p: Promise<unknown>): { at?: number; error?: unknown; done: boolean } {
  const state: { at?: number; error?: unknown; done: boolean } = { done: false };
  p.then(
    () => Object.assign(state, { done: true, at: fleet.clock.monotonic() }),
    (error: unknown) => Object.assign(state, { done: true, at: fleet.clock.monotonic(), error }),
  );
  return state;
}

describe('a slow write on one lease', () => {
  it('a hung checkpoint write does not stop the other leases being renewed; it is abandoned when its own lease expires', async () => {
    const w = await holdThree();
    const t0 = fleet.clock.monotonic();
    const lost: (LeaseLostEvent & { at: number })[] = [];
    w.coordinator.on('leaseLost', (e) => void lost.push({ ...e, at: fleet.clock.monotonic() - t0 }));
    const h0 = w.coordinator.getHeldLease(shardId(0))!;
    const expiresAt = h0.lastRenewedAt + FAILOVER;
    const before = [await counterOf(shardId(1)), await counterOf(shardId(2))];

    // The audit's case: the checkpoint UpdateItem of shard 0 gets no answer (for 4 s there; until released here).
    const hang = hangFirst(w, (input) => input.Key?.leaseKey?.S === shardId(0) && (input.UpdateExpression ?? '').includes('#cp ='));
    const cp: ShardCheckpointer = w.coordinator.createCheckpointer(shardId(0));
    cp.setLargestPermitted({ sequenceNumber: SEQ, subSequenceNumber: 0 });
    const write = settled(cp.checkpoint());
    await advance(w, hang, 4_000); // the audit saw all three leases lost at +4046 ms

    // Shards 1 and 2 kept their cadence all along: renewed within the last interval, counters moved every tick.
    for (const key of [shardId(1), shardId(2)]) expect(fleet.clock.monotonic() - (w.coordinator.getHeldLease(key)?.lastRenewedAt ?? 0)).toBeLessThanOrEqual(475);
    expect(w.coordinator.heldLeases().map((h) => h.leaseKey).sort()).toEqual([shardId(1), shardId(2)]);
    expect(Number((await counterOf(shardId(1))) - before[0]!)).toBeGreaterThanOrEqual(8);
    expect(Number((await counterOf(shardId(2))) - before[1]!)).toBeGreaterThanOrEqual(8);
    // Shard 0 expired on its own clock (no write confirmed for failoverTimeMillis): the hung write was
    // abandoned then and the checkpoint rejected with the usual LeaseLostError.
    expect(hang.held()).toBe(1);
    expect(write.done).toBe(true);
    expect(write.error).toBeInstanceOf(LeaseLostError);
    expect(write.error).toMatchObject({ code: 'LEASE_LOST', retriable: false, leaseKey: shardId(0) });
    expect(write.at).toBe(expiresAt);
    expect(lost.map((e) => [e.leaseKey, e.reason])).toEqual([[shardId(0), 'expired']]);
    expect(h0.signal.aborted).toBe(true);
    expect(cp.lastCheckpoint).toEqual({ sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 });

    // The request is let go into an aborted SDK call: it never reaches the table.
    hang.releaseAll();
    await advance(w, hang, 500);
    expect((await fleet.table.getLease(shardId(0)))?.checkpoint).toEqual({ sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 });
    expect(w.coordinator.heldLeases()).toHaveLength(2);
    // Nobody took shard 0 meanwhile: the taker takes it back (a new acquisition) and checkpoints work again.
    await w.coordinator.runTakerOnce();
    const again = w.coordinator.createCheckpointer(shardId(0));
    again.setLargestPermitted({ sequenceNumber: SEQ, subSequenceNumber: 0 });
    await again.checkpoint();
    expect((await fleet.table.getLease(shardId(0)))?.checkpoint).toEqual({ sequenceNumber: SEQ, subSequenceNumber: 0 });
  });

  it('a hung renewal does not delay the next passes; a checkpoint queued behind it is rejected when the lease expires', async () => {
    const w = await holdThree();
    const lost: LeaseLostEvent[] = [];
    w.coordinator.on('leaseLost', (e) => void lost.push(e));
    const h0 = w.coordinator.getHeldLease(shardId(0))!;
    const expiresAt = h0.lastRenewedAt + FAILOVER;
    const hang = hangFirst(w, (input) => input.Key?.leaseKey?.S === shardId(0) && input.UpdateExpression === 'SET #counter = :next');

    // The first timer pass (+475 ms) sends shard 0's renewal, which never answers.
    await advance(w, hang, 500);
    expect(hang.held()).toBe(1);
    const cp = w.coordinator.createCheckpointer(shardId(0));
    cp.setLargestPermitted({ sequenceNumber: SEQ, subSequenceNumber: 0 });
    const write = settled(cp.checkpoint());

    // The pass that sent it stops waiting when the next one is due (+950); that one (run by hand
    // here, the timer's follows it) sees shard 0 busy and renews the other two at once.
    await advance(w, hang, 300);
    const pass = w.coordinator.runRenewalOnce();
    const passState = settled(pass);
    await advance(w, hang, 150);
    expect(passState.done).toBe(true);
    expect(await pass).toMatchObject({ renewed: 2, busy: 1 });
    for (const key of [shardId(1), shardId(2)]) expect(w.coordinator.getHeldLease(key)!.lastRenewedAt).toBe(h0.lastRenewedAt + 950);
    expect(write.done).toBe(false);

    await advance(w, hang, 2_000);
    expect(write.done).toBe(true);
    expect(write.at).toBe(expiresAt);
    expect(write.error).toBeInstanceOf(LeaseLostError);
    expect(lost.map((e) => [e.leaseKey, e.reason])).toEqual([[shardId(0), 'expired']]);
    expect(w.coordinator.heldLeases().map((h) => h.leaseKey).sort()).toEqual([shardId(1), shardId(2)]);
    for (const h of w.coordinator.heldLeases()) expect(fleet.clock.monotonic() - h.lastRenewedAt).toBeLessThanOrEqual(475);
    hang.releaseAll();
    await advance(w, hang, 100);
  });

  it('a slow checkpoint that answers before the lease expires succeeds; the renewal it held up runs right after it', async () => {
    const w = await holdThree();
    const t0 = fleet.clock.monotonic();
    const lost: LeaseLostEvent[] = [];
    w.coordinator.on('leaseLost', (e) => void lost.push(e));
    const hang = hangFirst(w, (input) => input.Key?.leaseKey?.S === shardId(0) && (input.UpdateExpression ?? '').includes('#cp ='));
    const cp = w.coordinator.createCheckpointer(shardId(0));
    cp.setLargestPermitted({ sequenceNumber: SEQ, subSequenceNumber: 0 });
    const write = settled(cp.checkpoint());
    await advance(w, hang, 300);
    expect(hang.held()).toBe(1);

    // A pass does not wait for the busy lease: it renews the other two and comes back (no clock move needed).
    const pass = w.coordinator.runRenewalOnce();
    const passState = settled(pass);
    await settleIo(w, hang);
    expect(passState.done).toBe(true);
    expect(await pass).toMatchObject({ renewed: 2, busy: 1, lost: 0, expired: 0 });

    await advance(w, hang, 700); // the timer's passes at +475 (the others just renewed: skipped) and +950
    expect(write.done).toBe(false);
    const h0 = w.coordinator.getHeldLease(shardId(0))!;
    expect(h0.lastRenewedAt).toBe(t0);
    for (const key of [shardId(1), shardId(2)]) expect(w.coordinator.getHeldLease(key)!.lastRenewedAt).toBe(t0 + 950);
    hang.releaseAll();
    await settleIo(w, hang);
    expect(write.done).toBe(true);
    expect(write.error).toBeUndefined();
    // The checkpoint counts from when it was sent (t0), so the renewal queued behind it is not a no-op.
    expect(h0.lastRenewedAt).toBe(t0 + 1_000);
    expect(h0.leaseCounter).toBe(await counterOf(shardId(0)));
    await advance(w, hang, 3_000);
    expect(lost).toEqual([]);
    expect(w.coordinator.heldLeases()).toHaveLength(3);
    expect((await fleet.table.getLease(shardId(0)))?.checkpoint).toEqual({ sequenceNumber: SEQ, subSequenceNumber: 0 });
  });

  it('a hung release does not hold stop() beyond one failover time; the other leases are released at once', async () => {
    const w = await holdThree();
    const released: { leaseKey: string; evicted: boolean }[] = [];
    w.coordinator.on('leaseReleased', (e) => void released.push({ leaseKey: e.leaseKey, evicted: e.evicted }));
    const hang = hangFirst(w, (input) => input.Key?.leaseKey?.S === shardId(0) && (input.UpdateExpression ?? '').includes('REMOVE #owner'));
    const t0 = fleet.clock.monotonic();
    const stopping = settled(w.coordinator.stop());
    await settleIo(w, hang);
    expect(hang.held()).toBe(1);
    expect(stopping.done).toBe(false);
    expect(released.filter((r) => r.evicted).map((r) => r.leaseKey).sort()).toEqual([shardId(1), shardId(2)]);
    await advance(w, hang, FAILOVER);
    expect(stopping).toMatchObject({ done: true, at: t0 + FAILOVER });
    expect(stopping.error).toBeUndefined();
    expect(released).toContainEqual({ leaseKey: shardId(0), evicted: false });
    expect(w.coordinator.state).toBe('stopped');
  });
});
