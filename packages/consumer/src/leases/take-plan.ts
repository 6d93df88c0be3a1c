import { shuffled } from '@kinesis-kit/core';
import type { Lease } from './lease.js';

/**
 * A lease as one taker pass sees it:
 * - `held`: held by this worker (in memory);
 * - `live`: owned by another worker whose counter moved within failoverTimeMillis (or first seen less than that ago);
 * - `unowned`: no leaseOwner (new, or released gracefully): available at once;
 * - `expired`: owned by another worker whose counter has not moved for failoverTimeMillis: available;
 * - `orphaned`: the table says we own it but we do not hold it (restart, or dropped locally): available;
 * - `handoff`: a KCL 3.x graceful handoff is in progress (checkpointOwner set): not taken;
 * - `stuck-handoff`: checkpointOwner set but the counter has not moved for failoverTimeMillis: not
 *   taken yet (the KCL may still finish or force it), and its owner no longer counts as a live worker.
 *   Once it has stood still for the KCL's handoff timeout as well, the taker calls it `expired`.
 */
export type LeaseStatus = 'held' | 'live' | 'unowned' | 'expired' | 'orphaned' | 'handoff' | 'stuck-handoff';

export interface ClassifiedLease {
  lease: Lease;
  status: LeaseStatus;
}

export interface TakePlanInput {
  workerId: string;
  leases: readonly ClassifiedLease[];
  maxLeasesForWorker: number;
  maxLeasesToStealAtOneTime: number;
  /** Consecutive earlier passes that took leases: the per-pass cap doubles with each (slow start). */
  takeStreak: number;
  random: () => number;
}

export interface TakePlan {
  target: number;
  workers: number;
  myCount: number;
  needed: number;
  /** Leases the target would give us beyond maxLeasesForWorker (KCL LeaseSpillover). */
  spillover: number;
  totalLeases: number;
  availableLeases: number;
  expiredLeases: number;
  /** Most leases this pass may take (slow-start cap). */
  takeLimit: number;
  toTake: ClassifiedLease[];
  /**
   * The other available leases, in the order to try them: a take that loses its race (another
   * worker took that lease first) tries the next of these instead, so colliding with a peer that
   * started at the same moment does not leave this worker empty-handed and invisible to it.
   */
  spares: ClassifiedLease[];
  toSteal: ClassifiedLease[];
  victim?: string;
}

/** First-pass cap as a share of the target; doubled on every consecutive pass that takes something. */
const SLOW_START_DIVISOR = 8;

/**
 * Decides what one taker pass takes: the KCL 2.x balancing rules (target = ceil(leases / workers),
 * capped by maxLeasesForWorker; steal only when nothing is available, from the most loaded worker,
 * at most maxLeasesToStealAtOneTime) without the KCL's "very old leases" path that lets the first
 * worker grab everything, and with a slow-start cap so a worker that cannot yet see its peers does
 * not claim the whole table. Pure: the caller scans, classifies and executes.
 */
export function planLeaseTaking(input: TakePlanInput): TakePlan {
  const { workerId, leases, random } = input;
  const counts = new Map<string, number>();
  let myCount = 0;
  const available: ClassifiedLease[] = [];
  let expiredLeases = 0;
  for (const c of leases) {
    switch (c.status) {
      case 'held':
        myCount += 1;
        break;
      case 'live':
      case 'handoff': {
        const owner = c.lease.leaseOwner;
        if (owner !== undefined && owner !== workerId) counts.set(owner, (counts.get(owner) ?? 0) + 1);
        break;
      }
      case 'expired':
        expiredLeases += 1;
        available.push(c);
        break;
      case 'unowned':
      case 'orphaned':
        available.push(c);
        break;
      case 'stuck-handoff':
        break;
    }
  }
  const totalLeases = leases.length;
  const workers = counts.size + 1;
  let target = totalLeases === 0 ? 0 : workers >= totalLeases ? 1 : Math.ceil(totalLeases / workers);
  let spillover = 0;
  if (target > input.maxLeasesForWorker) {
    spillover = target - input.maxLeasesForWorker;
    target = input.maxLeasesForWorker;
  }
  const needed = target - myCount;
  const takeLimit = Math.max(1, Math.ceil(target / SLOW_START_DIVISOR)) * 2 ** Math.min(30, input.takeStreak);
  const plan: TakePlan = {
    target,
    workers,
    myCount,
    needed,
    spillover,
    totalLeases,
    availableLeases: available.length,
    expiredLeases,
    takeLimit,
    toTake: [],
    spares: [],
    toSteal: [],
  };
  if (needed <= 0) return plan;

  if (available.length > 0) {
    // Our own orphaned leases first (a restart picking up where it left off), then the rest at random.
    const own = shuffled(
      available.filter((c) => c.status === 'orphaned'),
      random,
    );
    const others = shuffled(
      available.filter((c) => c.status !== 'orphaned'),
      random,
    );
    const ordered = [...own, ...others];
    const count = Math.min(needed, takeLimit);
    plan.toTake = ordered.slice(0, count);
    plan.spares = ordered.slice(count);
    return plan;
  }

  // Nothing available: steal from the most loaded worker, only if that strictly evens the split.
  let victim: string | undefined;
  let victimCount = 0;
  let ties = 0;
  for (const [owner, count] of counts) {
    if (count > victimCount) {
      victim = owner;
      victimCount = count;
      ties = 1;
    } else if (count === victimCount && random() * ++ties < 1) {
      victim = owner;
    }
  }
  if (victim === undefined || victimCount - myCount < 2) return plan;
  // kcl.md 2.3 step 6: 1 only when the victim is exactly at target (a victim below target, possible when
  // leases of uncounted owners such as stuck handoffs raise the target, is not stolen from).
  let n = Math.min(needed, victimCount - target);
  if (n === 0 && needed > 1) n = 1;
  n = Math.min(n, input.maxLeasesToStealAtOneTime);
  if (n <= 0) return plan;
  const candidates = leases.filter((c) => c.status === 'live' && c.lease.leaseOwner === victim);
  plan.victim = victim;
  plan.toSteal = shuffled(candidates, random).slice(0, n);
  return plan;
}
