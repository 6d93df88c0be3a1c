import { describe, expect, it } from 'vitest';
import type { LeaseAcquiredEvent, LeaseLostEvent } from '@kinesis-kit/consumer';
import { type Fleet, type FleetWorker, HAND_RUN_TAKER, seedLeases, useFleetPerTest } from './harness.js';

const newFleet = useFleetPerTest();
let fleet: Fleet;

async function startFleet(workerCount: number, leaseCount: number, options: Parameters<Fleet['addWorker']>[1] = {}): Promise<FleetWorker[]> {
  fleet = newFleet();
  const first = fleet.addWorker('worker-0', options);
  await first.coordinator.start(); // creates the table
  await seedLeases(fleet.table, leaseCount);
  const rest = Array.from({ length: workerCount - 1 }, (_, i) => fleet.addWorker(`worker-${i + 1}`, options));
  await Promise.all(rest.map((w) => w.coordinator.start()));
  return fleet.workers;
}

/** Runs taker passes round-robin (no timers) until nobody takes anything for a full round. */
async function takeUntilSettled(workers: readonly FleetWorker[], maxRounds = 30): Promise<number> {
  for (let round = 1; round <= maxRounds; round++) {
    let moved = 0;
    for (const w of workers) {
      const r = await w.coordinator.runTakerOnce();
      moved += r.taken + r.stolen;
    }
    if (moved === 0) return round;
  }
  throw new Error('not settled');
}

describe('lease balancing (KCL 2.x protocol on dynalite)', () => {
  it.each([
    [2, 12, [6, 6]],
    [3, 12, [4, 4, 4]],
    [5, 12, [3, 3, 2, 2, 2]],
  ])('%i workers over %i leases converge to an even split', async (workerCount, leaseCount, expected) => {
    const workers = await startFleet(workerCount, leaseCount);
    const rounds = await takeUntilSettled(workers);
    const counts = fleet.heldCounts();
    expect([...counts].sort((a, b) => b - a)).toEqual(expected);
    // The table agrees with the workers' memory, and every lease has exactly one owner.
    const owners = await fleet.owners();
    expect(owners.size).toBe(leaseCount);
    for (const w of workers) {
      const mine = [...owners].filter(([, o]) => o === w.id).map(([k]) => k).sort();
      expect(mine).toEqual(w.coordinator.heldLeases().map((h) => h.leaseKey).sort());
    }
    expect(rounds).toBeLessThanOrEqual(8);
  });

  it('converges without steals when workers start together on fresh leases (slow start)', async () => {
    const workers = await startFleet(4, 64);
    let stolen = 0;
    for (const w of workers) w.coordinator.on('takerRun', (e) => void (stolen += e.stolen));
    await takeUntilSettled(workers);
    expect(fleet.heldCounts()).toEqual([16, 16, 16, 16]);
    expect(stolen).toBe(0);
  });

  it('converges on its own timers: first pass soon after start, quick follow-ups, no lease left unowned', async () => {
    const workers = await startFleet(3, 12);
    await fleet.advance(8_000);
    expect(fleet.heldCounts()).toEqual([4, 4, 4]);
    const owners = await fleet.owners();
    expect([...owners.values()].every((o) => o !== undefined)).toBe(true);
    expect(workers.length).toBe(3);
  });

  it('a worker that stops renewing loses its leases to the others right after failover time', async () => {
    // The KCL's taker period (20 s): the pass that takes them is the one timed for their expiry.
    const workers = await startFleet(3, 12, { takerIntervalMillis: 20_050 });
    await takeUntilSettled(workers);
    const [a, b, c] = workers as [FleetWorker, FleetWorker, FleetWorker];
    const cLeases = c.coordinator.heldLeases().map((h) => h.leaseKey);
    expect(cLeases).toHaveLength(4);
    await c.coordinator.stop({ releaseLeases: false }); // a crash: nothing released

    const acquired: LeaseAcquiredEvent[] = [];
    for (const w of [a, b]) w.coordinator.on('leaseAcquired', (e) => void acquired.push(e));

    // Within failover time nobody may touch C's leases.
    await fleet.advance(9_000);
    expect(acquired).toEqual([]);
    // Failover after C's last renewal (a pass is timed for it), not up to a taker period later.
    await fleet.advance(3_500, 250);
    expect(acquired.map((e) => e.leaseKey).sort()).toEqual([...cLeases].sort());
    expect(acquired.every((e) => e.acquisition === 'taken' && e.previousOwner === c.id)).toBe(true);
    expect(fleet.heldCounts([a, b])).toEqual([6, 6]);
  });

  it('expiryLookAhead: false scans once per taker period (the KCL rate) and takes a crashed worker at the period pass', async () => {
    const kcl = { takerIntervalMillis: 20_050, expiryLookAhead: false };
    const workers = await startFleet(3, 12, kcl);
    await takeUntilSettled(workers);
    const [a, b, c] = workers as [FleetWorker, FleetWorker, FleetWorker];
    // Steady state with live peers: one Scan per worker per period. (With the look-ahead on, the
    // test above shows a pass timed for each failover; that is a Scan about every 10 s.)
    const scansBefore = a.io.counts.get('ScanCommand') ?? 0;
    await fleet.advance(60_200, 250);
    expect((a.io.counts.get('ScanCommand') ?? 0) - scansBefore).toBe(3);

    const cLeases = c.coordinator.heldLeases().map((h) => h.leaseKey);
    await c.coordinator.stop({ releaseLeases: false }); // a crash: nothing released
    const acquired: LeaseAcquiredEvent[] = [];
    for (const w of [a, b]) w.coordinator.on('leaseAcquired', (e) => void acquired.push(e));
    // No pass is timed for the expiry: nothing moves at failover + a few seconds.
    await fleet.advance(14_000, 250);
    expect(acquired).toEqual([]);
    // The regular passes (at most a period after the expiry) take them.
    await fleet.advance(20_050, 250);
    expect(acquired.map((e) => e.leaseKey).sort()).toEqual([...cLeases].sort());
    expect(fleet.heldCounts([a, b])).toEqual([6, 6]);
  });

  it('graceful release lets a peer take the leases at its next taker pass, not after failover', async () => {
    const workers = await startFleet(2, 12);
    await takeUntilSettled(workers);
    const [a, b] = workers as [FleetWorker, FleetWorker];
    const released: string[] = [];
    b.coordinator.on('leaseReleased', (e) => {
      expect(e.evicted).toBe(true);
      released.push(e.leaseKey);
    });
    await b.coordinator.stop();
    expect(released).toHaveLength(6);
    const owners = await fleet.owners();
    for (const key of released) expect(owners.get(key)).toBeUndefined();

    const r = await a.coordinator.runTakerOnce(); // no time has passed at all
    expect(r.taken).toBeGreaterThan(0);
    await takeUntilSettled([a]);
    expect(a.coordinator.heldLeases()).toHaveLength(12);
  });

  it('a worker restarted with the same workerId within failover time keeps its leases', async () => {
    // The KCL's taker period (20 s); A would take B's leases at their expiry (failover after B's last renewal).
    const kclPeriod = { takerIntervalMillis: 20_050 };
    const workers = await startFleet(2, 12, kclPeriod);
    await takeUntilSettled(workers);
    const [a, b] = workers as [FleetWorker, FleetWorker];
    const before = b.coordinator.heldLeases().map((h) => h.leaseKey).sort();
    await b.coordinator.stop({ releaseLeases: false });
    await fleet.advance(6_000, 500); // a restart well within failover time

    const b2 = fleet.addWorker(b.id, kclPeriod);
    const lost: LeaseLostEvent[] = [];
    a.coordinator.on('leaseLost', (e) => void lost.push(e));
    await b2.coordinator.start();
    expect(b2.coordinator.heldLeases().map((h) => h.leaseKey).sort()).toEqual(before);
    expect(b2.coordinator.heldLeases().every((h) => h.acquisition === 'adopted')).toBe(true);
    await takeUntilSettled([a, b2]);
    expect(fleet.heldCounts([a, b2])).toEqual([6, 6]);
    expect(lost).toEqual([]);
  });

  it('a take that loses its race to a peer takes another available lease in the same pass', async () => {
    const [a] = (await startFleet(1, 4)) as [FleetWorker];
    // A peer takes whichever lease worker-0 tries first, just before worker-0's write reaches the table.
    let raced: string | undefined;
    a.io.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateItemCommand' && raced === undefined) {
          raced = (args.input as { Key: { leaseKey: { S: string } } }).Key.leaseKey.S;
          expect((await fleet.table.takeLease((await fleet.table.getLease(raced))!, 'peer')).ok).toBe(true);
        }
        return next(args);
      },
      { step: 'initialize', name: 'peerTakesFirst' },
    );
    const pass = await a.coordinator.runTakerOnce(); // first pass: slow start takes 1 of the 4
    expect(pass).toMatchObject({ taken: 1, failed: 0 });
    const held = a.coordinator.heldLeases().map((h) => h.leaseKey);
    expect(held).toHaveLength(1);
    expect(held).not.toContain(raced);
    const owners = await fleet.owners();
    expect(owners.get(raced!)).toBe('peer');
    expect(owners.get(held[0]!)).toBe('worker-0');
  });

  it('a take that fails with an error (not a lost race) does not move on to the other leases', async () => {
    const [a] = (await startFleet(1, 4)) as [FleetWorker];
    const denied = Object.assign(new Error('not authorized to perform dynamodb:UpdateItem'), { name: 'AccessDeniedException' });
    a.io.setFault((name) => (name === 'UpdateItemCommand' ? denied : undefined));
    const before = a.io.counts.get('UpdateItemCommand') ?? 0;
    expect(await a.coordinator.runTakerOnce()).toMatchObject({ taken: 0, failed: 1 });
    expect((a.io.counts.get('UpdateItemCommand') ?? 0) - before).toBe(1);
    a.io.setFault(undefined);
  });

  it('says failed takes once per error code per 10 s, then with how many went unsaid', async () => {
    const said: { suppressed?: number }[] = [];
    const noop = () => undefined;
    const logger = { debug: noop, info: noop, error: noop, warn: (fields: object, message?: string) => void (message === 'take failed' && said.push(fields)) };
    const [a] = (await startFleet(1, 4, { ...HAND_RUN_TAKER, logger })) as [FleetWorker];
    const denied = Object.assign(new Error('not authorized to perform dynamodb:UpdateItem'), { name: 'AccessDeniedException' });
    a.io.setFault((name) => (name === 'UpdateItemCommand' ? denied : undefined));
    for (let pass = 0; pass < 3; pass++) expect(await a.coordinator.runTakerOnce()).toMatchObject({ failed: 1 });
    expect(said).toHaveLength(1);
    expect(said[0]!.suppressed).toBeUndefined();
    await fleet.clock.advance(10_000);
    await a.coordinator.runTakerOnce();
    expect(said.map((f) => f.suppressed)).toEqual([undefined, 2]);
    a.io.setFault(undefined);
  });

  it('respects maxLeasesForWorker and reports the spillover', async () => {
    fleet = newFleet();
    const w = fleet.addWorker('capped', { maxLeasesForWorker: 5 });
    await w.coordinator.start();
    await seedLeases(fleet.table, 12);
    await takeUntilSettled([w]);
    expect(w.coordinator.heldLeases()).toHaveLength(5);
  });
});
