/**
 * A model of the KCL 2.x lease taker (kcl.md 2.3), simulated on a discrete clock, to compare
 * start-up convergence with ours on the same scenario. Written from the description, not from KCL
 * code. Renewals are modelled by their effect only: every owner is alive, so each scan sees its
 * counters move and never considers its leases expired.
 *
 * Per taker run (every takerIntervalMillis after the previous one, first run at worker start):
 *  1. scan; available = unowned (owned leases of live workers are never expired here);
 *  2. worker counts from non-available leases (+ self with 0);
 *     target = 1 if workers >= leases else ceil(leases / workers), capped by maxLeasesForWorker;
 *  3. priority path: leases never seen moving (unowned at first sighting: timestamp 0) or idle for
 *     3 x failover are "very old": take all of them (up to maxLeasesForWorker - mine) and stop;
 *  4. else take min(target - mine, available) random available leases;
 *  5. only if nothing is available: steal from the most loaded worker min(needed, its - target),
 *     1 if that is 0 and needed > 1, capped by maxLeasesToStealAtOneTime.
 */
import { seededRandom, shuffled } from '@kinesis-kit/core';

export interface KclModelOptions {
  leases: number;
  /** Start time of each worker, ms. */
  startOffsets: number[];
  takerIntervalMillis?: number;
  failoverTimeMillis?: number;
  maxLeasesForWorker?: number;
  maxLeasesToStealAtOneTime?: number;
  seed?: number;
  /** Give up after this much simulated time. */
  horizonMillis?: number;
}

export interface KclModelResult {
  /** Simulated ms from the first start until every worker holds floor/ceil(leases / workers). */
  balancedAtMillis: number;
  steals: number;
  takes: number;
  takerRuns: number;
}

interface Observation {
  counter: number;
  lastChange: number;
}

export function simulateKcl2xTaker(options: KclModelOptions): KclModelResult {
  const interval = options.takerIntervalMillis ?? 20_050;
  const failover = options.failoverTimeMillis ?? 10_000;
  const maxForWorker = options.maxLeasesForWorker ?? Number.POSITIVE_INFINITY;
  const maxSteal = options.maxLeasesToStealAtOneTime ?? 1;
  const horizon = options.horizonMillis ?? 3_600_000;
  const random = seededRandom(options.seed ?? 1);
  const n = options.leases;
  const owners: (number | undefined)[] = Array.from({ length: n }, () => undefined);
  const counters: number[] = Array.from({ length: n }, () => 0);
  const workers = options.startOffsets.map((start, id) => ({ id, nextRun: start, seen: new Map<number, Observation>() }));
  const w = workers.length;
  const balanced = (): boolean => {
    const counts = workers.map((x) => owners.filter((o) => o === x.id).length);
    return owners.every((o) => o !== undefined) && Math.max(...counts) - Math.min(...counts) <= 1;
  };
  let steals = 0;
  let takes = 0;
  let runs = 0;
  let now = 0;
  while (now <= horizon) {
    const worker = workers.reduce((a, b) => (b.nextRun < a.nextRun ? b : a));
    now = worker.nextRun;
    runs += 1;
    // Live owners renew between runs: their counters have moved since any earlier scan.
    for (let i = 0; i < n; i++) if (owners[i] !== undefined) counters[i]! += 1;

    // 1. scan and timestamps
    const available: number[] = [];
    const veryOld: number[] = [];
    for (let i = 0; i < n; i++) {
      const prev = worker.seen.get(i);
      let lastChange: number;
      if (!prev) lastChange = owners[i] === undefined ? Number.NEGATIVE_INFINITY : now;
      else lastChange = prev.counter !== counters[i] ? now : prev.lastChange;
      worker.seen.set(i, { counter: counters[i]!, lastChange });
      const expired = now - lastChange > failover;
      if (owners[i] === undefined || expired) {
        available.push(i);
        if (now - lastChange > 3 * failover) veryOld.push(i);
      }
    }
    // 2. counts and target
    const counts = new Map<number, number>([[worker.id, 0]]);
    for (let i = 0; i < n; i++) {
      const o = owners[i];
      if (o !== undefined && !available.includes(i)) counts.set(o, (counts.get(o) ?? 0) + 1);
    }
    const mine = counts.get(worker.id)!;
    let target = counts.size >= n ? 1 : Math.ceil(n / counts.size);
    target = Math.min(target, maxForWorker);
    const take = (indexes: number[]): void => {
      for (const i of indexes) {
        owners[i] = worker.id;
        counters[i]! += 1;
      }
    };
    if (veryOld.length > 0) {
      // 3. priority path
      take(shuffled(veryOld, random).slice(0, Math.max(0, maxForWorker - mine)));
      takes += Math.min(veryOld.length, maxForWorker - mine);
    } else {
      const needed = target - mine;
      if (needed > 0 && available.length > 0) {
        const chosen = shuffled(available, random).slice(0, needed);
        take(chosen);
        takes += chosen.length;
      } else if (needed > 0) {
        // 5. steal from the most loaded worker
        let victim = -1;
        let victimCount = 0;
        for (const [o, c] of counts) if (o !== worker.id && c > victimCount) [victim, victimCount] = [o, c];
        let k = Math.min(needed, victimCount - target);
        if (k <= 0 && needed > 1) k = 1;
        k = Math.min(k, maxSteal);
        if (victim >= 0 && k > 0) {
          const candidates = owners.flatMap((o, i) => (o === victim ? [i] : []));
          take(shuffled(candidates, random).slice(0, k));
          steals += k;
        }
      }
    }
    worker.nextRun = now + interval;
    if (balanced() && workers.every((x) => x.seen.size > 0)) {
      return { balancedAtMillis: now - Math.min(...options.startOffsets), steals, takes, takerRuns: runs };
    }
    if (w === 0) break;
  }
  return { balancedAtMillis: Number.POSITIVE_INFINITY, steals, takes, takerRuns: runs };
}
