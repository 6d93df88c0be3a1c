import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { seededRandom } from '@kinesis-kit/core';
import type { Lease } from './lease.js';
import { planLeaseTaking, type ClassifiedLease, type LeaseStatus } from './take-plan.js';

function lease(i: number, owner?: string, extra: Partial<Lease> = {}): Lease {
  return {
    leaseKey: `shardId-${i}`,
    shardId: `shardId-${i}`,
    leaseCounter: 1n,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: [],
    childShardIds: [],
    ...(owner !== undefined ? { leaseOwner: owner } : {}),
    ...extra,
  };
}

/** A view from `me`: owners map index -> owner (undefined = unowned); all owned leases live. */
function view(me: string, owners: (string | undefined)[], status: (i: number) => LeaseStatus | undefined = () => undefined): ClassifiedLease[] {
  return owners.map((owner, i) => ({
    lease: lease(i, owner),
    status: status(i) ?? (owner === undefined ? 'unowned' : owner === me ? 'held' : 'live'),
  }));
}

const base = { maxLeasesForWorker: Infinity, maxLeasesToStealAtOneTime: 1, takeStreak: 0, random: seededRandom(7) };

describe('planLeaseTaking', () => {
  it('a lone worker on a fresh table takes an eighth of its target first, then doubles each pass (slow start)', () => {
    const owners: (string | undefined)[] = Array.from({ length: 64 }, () => undefined);
    const p0 = planLeaseTaking({ ...base, workerId: 'a', leases: view('a', owners) });
    expect(p0).toMatchObject({ target: 64, workers: 1, needed: 64, takeLimit: 8 });
    expect(p0.toTake).toHaveLength(8);
    expect(planLeaseTaking({ ...base, takeStreak: 1, workerId: 'a', leases: view('a', owners) }).toTake).toHaveLength(16);
    expect(planLeaseTaking({ ...base, takeStreak: 3, workerId: 'a', leases: view('a', owners) }).toTake).toHaveLength(64);
    expect(planLeaseTaking({ ...base, workerId: 'a', leases: view('a', owners.slice(0, 3)) }).toTake).toHaveLength(1);
  });

  it('the available leases not chosen are the spares, in the order to try them; none when stealing', () => {
    // a's own orphaned lease (3) first, then the unowned ones; slow start takes 1 of the 5.
    const owners = [undefined, undefined, 'b', 'a', undefined, undefined];
    const p = planLeaseTaking({ ...base, workerId: 'a', leases: view('a', owners, (i) => (i === 3 ? 'orphaned' : undefined)) });
    expect(p.toTake.map((c) => c.lease.leaseKey)).toEqual(['shardId-3']);
    expect(p.spares.map((c) => c.lease.leaseKey).sort()).toEqual(['shardId-0', 'shardId-1', 'shardId-4', 'shardId-5']);
    const steal = planLeaseTaking({ ...base, workerId: 'a', leases: view('a', ['b', 'b', 'b', 'b']) });
    expect(steal.toSteal).toHaveLength(1);
    expect(steal.spares).toEqual([]);
  });

  it('never takes beyond the target, counting the workers that own live leases', () => {
    // 12 leases: b and c own 4 each, 4 unowned: a's target is 4.
    const owners = ['b', 'b', 'b', 'b', 'c', 'c', 'c', 'c', undefined, undefined, undefined, undefined];
    const p = planLeaseTaking({ ...base, takeStreak: 5, workerId: 'a', leases: view('a', owners) });
    expect(p).toMatchObject({ workers: 3, target: 4, needed: 4, availableLeases: 4 });
    expect(p.toTake).toHaveLength(4);
    expect(p.toSteal).toEqual([]);
  });

  it('expired leases are available; their owner is not counted as a worker', () => {
    const owners = ['dead', 'dead', 'dead', 'b', 'b', 'b'];
    const p = planLeaseTaking({ ...base, takeStreak: 5, workerId: 'a', leases: view('a', owners, (i) => (i < 3 ? 'expired' : undefined)) });
    expect(p).toMatchObject({ workers: 2, target: 3, expiredLeases: 3 });
    expect(p.toTake.map((c) => c.lease.leaseKey).sort()).toEqual(['shardId-0', 'shardId-1', 'shardId-2']);
  });

  it('takes its own orphaned leases first', () => {
    const owners = [undefined, undefined, 'a', undefined, 'a'];
    const p = planLeaseTaking({ ...base, takeStreak: 1, workerId: 'a', leases: view('a', owners, (i) => (owners[i] === 'a' ? 'orphaned' : undefined)) });
    expect(p.toTake.map((c) => c.status)).toEqual(['orphaned', 'orphaned']);
  });

  it('steals only when nothing is available, from the most loaded worker, at most maxLeasesToStealAtOneTime', () => {
    const owners = [...Array<string>(10).fill('b'), ...Array<string>(2).fill('c')];
    const p = planLeaseTaking({ ...base, workerId: 'a', leases: view('a', owners) });
    expect(p).toMatchObject({ target: 4, needed: 4, victim: 'b' });
    expect(p.toSteal).toHaveLength(1);
    expect(p.toSteal.every((c) => c.lease.leaseOwner === 'b')).toBe(true);
    const many = planLeaseTaking({ ...base, maxLeasesToStealAtOneTime: 10, workerId: 'a', leases: view('a', owners) });
    expect(many.toSteal).toHaveLength(4); // min(needed 4, b's excess 6)
    const withFree = planLeaseTaking({ ...base, workerId: 'a', leases: view('a', [...owners, undefined]) });
    expect(withFree.toSteal).toEqual([]);
    expect(withFree.toTake).toHaveLength(1);
  });

  it('does not steal when it would only swap the imbalance (12 over 5 workers: 3,3,2,2,2 is final)', () => {
    const owners = ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd', 'd', 'e', 'e', 'e'];
    for (const me of ['a', 'b', 'c', 'd', 'e']) {
      const p = planLeaseTaking({ ...base, workerId: me, leases: view(me, owners) });
      expect(p.target).toBe(3);
      expect([...p.toTake, ...p.toSteal]).toEqual([]);
    }
  });

  it('steals one from a worker at target when it is two or more below (the KCL rule), never one below', () => {
    // 7 leases, 3 workers: target 3; b and c sit at the target, a holds 1 and needs 2.
    const p = planLeaseTaking({ ...base, workerId: 'a', leases: view('a', ['a', 'b', 'b', 'b', 'c', 'c', 'c']) });
    expect(p).toMatchObject({ target: 3, needed: 2 });
    expect(p.toSteal).toHaveLength(1);
    // 8 leases: a holds 2, b and c 3: a is one below, nothing to gain.
    const q = planLeaseTaking({ ...base, workerId: 'a', leases: view('a', ['a', 'a', 'b', 'b', 'b', 'c', 'c', 'c']) });
    expect(q).toMatchObject({ target: 3, needed: 1 });
    expect(q.toSteal).toEqual([]);
  });

  it('never takes leases in a KCL 3.x handoff; a stuck handoff does not count its owner as a worker', () => {
    const owners = ['b', 'b', undefined];
    const handoff = planLeaseTaking({ ...base, workerId: 'a', leases: view('a', owners, (i) => (i < 2 ? 'handoff' : undefined)) });
    expect(handoff).toMatchObject({ workers: 2, target: 2, availableLeases: 1 });
    expect(handoff.toTake.map((c) => c.lease.leaseKey)).toEqual(['shardId-2']);
    expect(handoff.toSteal).toEqual([]);
    const stuck = planLeaseTaking({ ...base, workerId: 'a', leases: view('a', owners, (i) => (i < 2 ? 'stuck-handoff' : undefined)) });
    expect(stuck).toMatchObject({ workers: 1, target: 3, availableLeases: 1 });
  });

  it('never steals from a worker below target (leases of uncounted owners, such as stuck handoffs, can raise the target)', () => {
    // 10 leases, 6 in a stuck handoff (their owner not counted): target ceil(10 / 3) = 4; b and c hold 2 each.
    const owners = ['x', 'x', 'x', 'x', 'x', 'x', 'b', 'b', 'c', 'c'];
    const plan = planLeaseTaking({ ...base, workerId: 'a', leases: view('a', owners, (i) => (i < 6 ? 'stuck-handoff' : undefined)) });
    expect(plan).toMatchObject({ workers: 3, target: 4, availableLeases: 0 });
    expect(plan.toSteal).toEqual([]);
  });

  it('caps the target at maxLeasesForWorker and reports the spillover', () => {
    const p = planLeaseTaking({ ...base, maxLeasesForWorker: 5, workerId: 'a', leases: view('a', Array<undefined>(12).fill(undefined)) });
    expect(p).toMatchObject({ target: 5, spillover: 7 });
  });

  it('property: round-robin passes with immediate effect converge to a split within one, every lease owned, no steal ever inverts the order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 80 }), fc.integer({ min: 0, max: 2 ** 31 }), (workers, leases, seed) => {
        const random = seededRandom(seed);
        const ids = Array.from({ length: workers }, (_, i) => `w${i}`);
        const owners: (string | undefined)[] = Array.from({ length: leases }, () => undefined);
        const streak = new Map(ids.map((id) => [id, 0]));
        for (let round = 0; round < 200; round++) {
          let moved = 0;
          for (const me of ids) {
            const p = planLeaseTaking({ ...base, random, takeStreak: streak.get(me)!, workerId: me, leases: view(me, owners) });
            const count = (id: string): number => owners.filter((o) => o === id).length;
            for (const c of p.toSteal) {
              expect(count(c.lease.leaseOwner!) - count(me)).toBeGreaterThanOrEqual(2);
            }
            for (const c of [...p.toTake, ...p.toSteal]) owners[Number(c.lease.leaseKey.slice(8))] = me;
            const n = p.toTake.length + p.toSteal.length;
            streak.set(me, n > 0 ? streak.get(me)! + 1 : 0);
            moved += n;
          }
          if (moved === 0) break;
        }
        expect(owners.every((o) => o !== undefined)).toBe(true);
        const counts = ids.map((id) => owners.filter((o) => o === id).length);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 150 },
    );
  });
});
