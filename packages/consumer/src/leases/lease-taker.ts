import { abortReason, errorFields, isAbortError, RepeatedLog, Semaphore, type Clock, type Logger, type TypedEmitter } from '@kinesis-kit/core';
import { awsCodeOf } from './dynamodb-call.js';
import type { LeaseAcquisition, LeaseCoordinatorEvents, TakerRunEvent } from './events.js';
import type { Lease } from './lease.js';
import type { LeaseRenewer } from './lease-renewer.js';
import type { LeaseTable } from './lease-table.js';
import { LeaseMetricOperation, type MetricsScope } from './metrics.js';
import { planLeaseTaking, type ClassifiedLease, type LeaseStatus } from './take-plan.js';

export interface LeaseTakerOptions {
  table: LeaseTable;
  renewer: LeaseRenewer;
  workerId: string;
  failoverTimeMillis: number;
  maxLeasesForWorker: number;
  maxLeasesToStealAtOneTime: number;
  clock: Clock;
  logger: Logger;
  metrics: MetricsScope;
  events: TypedEmitter<LeaseCoordinatorEvents>;
  random: () => number;
}

/** The KCL 3.x graceful handoff timeout (its default, kcl.md 2.5): how long a handoff may take before it is forced. */
export const KCL_GRACEFUL_HANDOFF_TIMEOUT_MILLIS = 30_000;

/** What this worker last saw of a lease: liveness is counter movement on our own monotonic clock. */
interface Observation {
  counter: bigint;
  owner: string | undefined;
  /** Monotonic time the counter was last seen to change (-Infinity: never owned, available at once). */
  lastChangeAt: number;
}

const TAKE_CONCURRENCY = 8;

/**
 * The taker: scans the table, judges liveness by counter movement since earlier scans (never by
 * wall clock), plans with planLeaseTaking() and takes leases with counter-conditioned writes.
 */
export class LeaseTaker {
  private readonly observations = new Map<string, Observation>();
  private takeStreak = 0;
  private readonly semaphore = new Semaphore(TAKE_CONCURRENCY);
  private warnedMultiStream = false;
  /** Failed takes are said once per error code per interval (a DynamoDB outage would otherwise log every pass). */
  private readonly failureLog: RepeatedLog;

  constructor(private readonly o: LeaseTakerOptions) {
    this.failureLog = new RepeatedLog(o.clock);
  }

  /**
   * Start-up: renews (takes with the same owner) every lease the table says is ours, even if it
   * looks expired, so a worker restarted with the same workerId keeps its leases. Returns how many.
   * `listed`: the table's leases as listed moments ago, used instead of a Scan (a stale counter
   * only makes a take fail; the taker's next pass picks that lease up).
   */
  async adoptOwnLeases(signal?: AbortSignal, listed?: readonly Lease[]): Promise<number> {
    const leases = listed ? this.accept([...listed]) : await this.scan(signal);
    const own = leases.filter(
      (l) => l.leaseOwner === this.o.workerId && l.checkpointOwner === undefined && !this.o.renewer.get(l.leaseKey)?.isHeld,
    );
    const results = await Promise.all(own.map((l) => this.take(l, 'adopted', signal)));
    return results.filter((r) => r === 'taken').length;
  }

  /** One taker pass. Throws if the scan fails (after retries); failed takes are counted, not thrown. */
  async runOnce(signal?: AbortSignal): Promise<TakerRunEvent> {
    const started = this.o.clock.monotonic();
    const leases = await this.scan(signal);
    const now = this.o.clock.monotonic();
    const classified = leases.map((lease): ClassifiedLease => ({ lease, status: this.classify(lease, now) }));
    const plan = planLeaseTaking({
      workerId: this.o.workerId,
      leases: classified,
      maxLeasesForWorker: this.o.maxLeasesForWorker,
      maxLeasesToStealAtOneTime: this.o.maxLeasesToStealAtOneTime,
      takeStreak: this.takeStreak,
      random: this.o.random,
    });
    const spares = [...plan.spares];
    const jobs: (() => Promise<boolean>)[] = [
      ...plan.toTake.map((c) => () => this.takeOrSpare(c, spares, signal)),
      ...plan.toSteal.map((c) => async () => (await this.take(c.lease, 'stolen', signal)) === 'taken'),
    ];
    // allSettled: a stop must not return while a take is still in flight (its lease would escape the release).
    const settledJobs = await Promise.allSettled(jobs.map((job) => this.semaphore.use(job, signal)));
    if (signal?.aborted) throw abortReason(signal);
    const outcomes = settledJobs.map((r) => r.status === 'fulfilled' && r.value);
    let taken = 0;
    let stolen = 0;
    outcomes.forEach((ok, i) => {
      if (!ok) return;
      if (i >= plan.toTake.length) stolen += 1;
      else taken += 1;
    });
    const failed = jobs.length - taken - stolen;
    this.takeStreak = taken + stolen > 0 ? this.takeStreak + 1 : 0;

    const m = this.o.metrics;
    const op = { Operation: LeaseMetricOperation.take };
    m.add('NumWorkers', plan.workers, 'Count', op);
    m.add('NeededLeases', Math.max(0, plan.needed), 'Count', op);
    m.add('LeasesToTake', jobs.length, 'Count', op);
    m.add('TakenLeases', taken + stolen, 'Count', op);
    m.add('UntakenLeases', failed, 'Count', op);
    m.add('TotalLeases', plan.totalLeases, 'Count', op);
    m.add('ExpiredLeases', plan.expiredLeases, 'Count', op);
    m.add('LeaseSpillover', plan.spillover, 'Count', op);

    const event: TakerRunEvent = {
      taken,
      stolen,
      failed,
      target: plan.target,
      workers: plan.workers,
      totalLeases: plan.totalLeases,
      availableLeases: plan.availableLeases,
      expiredLeases: plan.expiredLeases,
      heldLeases: this.o.renewer.size,
      settled: jobs.length === 0,
      durationMs: this.o.clock.monotonic() - started,
    };
    const nextExpiry = this.nextExpiry(classified, now);
    if (nextExpiry !== undefined) event.nextExpiryInMillis = nextExpiry;
    if (jobs.length > 0) {
      this.o.logger.info({ ...event, victim: plan.victim }, 'taker pass');
    }
    this.o.events.emit('takerRun', event);
    return event;
  }

  private async scan(signal?: AbortSignal): Promise<Lease[]> {
    const started = this.o.clock.monotonic();
    let leases: Lease[];
    try {
      leases = await this.o.table.listLeases(signal ? { signal } : {});
    } catch (err) {
      if (!isAbortError(err)) this.o.metrics.call('ListLeases', false, started, { Operation: LeaseMetricOperation.take });
      throw err;
    }
    this.o.metrics.call('ListLeases', true, started, { Operation: LeaseMetricOperation.take });
    return this.accept(leases);
  }

  /** A listing of the table as the taker uses it: without multi-stream leases, observed for liveness. */
  private accept(leases: Lease[]): Lease[] {
    const ours = this.withoutMultiStreamLeases(leases);
    this.observe(ours, this.o.clock.monotonic());
    return ours;
  }

  /**
   * Multi-stream KCL leases (`account:stream:creationEpoch:shardId` keys) belong to a multi-stream
   * application, which kinesis-kit is not: they are never taken, stolen or counted (their owners do
   * not count as workers either). KinesisConsumer.start() refuses such a table; one that appears
   * later (a KCL multi-stream worker writing into the table) is ignored with a warning, once.
   */
  private withoutMultiStreamLeases(leases: Lease[]): Lease[] {
    const multiStream = leases.filter((l) => l.streamIdentifier !== undefined);
    if (multiStream.length === 0) return leases;
    if (!this.warnedMultiStream) {
      this.warnedMultiStream = true;
      this.o.logger.warn(
        { leaseKey: multiStream[0]!.leaseKey, multiStreamLeases: multiStream.length },
        'the lease table holds multi-stream KCL leases (account:stream:creationEpoch:shardId keys) of another application; ' +
          'they are ignored: never taken, stolen or counted',
      );
    }
    return leases.filter((l) => l.streamIdentifier === undefined);
  }

  /** Updates liveness observations from a scan; leases missing from it are forgotten. */
  private observe(leases: readonly Lease[], scanTime: number): void {
    const seen = new Set<string>();
    for (const lease of leases) {
      seen.add(lease.leaseKey);
      const prev = this.observations.get(lease.leaseKey);
      let lastChangeAt: number;
      if (!prev) lastChangeAt = lease.leaseOwner === undefined ? Number.NEGATIVE_INFINITY : scanTime;
      else if (prev.counter !== lease.leaseCounter || prev.owner !== lease.leaseOwner) lastChangeAt = scanTime;
      else lastChangeAt = prev.lastChangeAt;
      this.observations.set(lease.leaseKey, { counter: lease.leaseCounter, owner: lease.leaseOwner, lastChangeAt });

      // A lease we hold that the table shows with another owner and a newer counter was taken from us.
      const held = this.o.renewer.get(lease.leaseKey);
      if (held?.isHeld && lease.leaseOwner !== this.o.workerId && lease.leaseCounter > held.leaseCounter) {
        this.o.renewer.markLost(held, 'conflict', lease.leaseOwner);
      }
    }
    for (const key of this.observations.keys()) if (!seen.has(key)) this.observations.delete(key);
  }

  /** Time until the earliest live lease of another worker would expire unchanged (see TakerRunEvent). */
  private nextExpiry(classified: readonly ClassifiedLease[], now: number): number | undefined {
    let earliest: number | undefined;
    for (const { lease, status } of classified) {
      if (status !== 'live') continue;
      const seen = this.observations.get(lease.leaseKey);
      if (!seen || !Number.isFinite(seen.lastChangeAt)) continue;
      const due = seen.lastChangeAt + this.o.failoverTimeMillis + 1 - now;
      if (earliest === undefined || due < earliest) earliest = due;
    }
    return earliest === undefined ? undefined : Math.max(0, earliest);
  }

  private classify(lease: Lease, now: number): LeaseStatus {
    if (this.o.renewer.get(lease.leaseKey)?.isHeld) return 'held';
    const seen = this.observations.get(lease.leaseKey);
    const stale = seen !== undefined && now - seen.lastChangeAt > this.o.failoverTimeMillis;
    if (lease.checkpointOwner !== undefined) {
      if (!stale) return 'handoff';
      // Both KCL workers fell silent mid-handoff. The 3.x leader reassigns such a lease once the handoff
      // timeout has passed too (kcl.md 2.5); so do we, and the take clears checkpointOwner.
      return now - seen.lastChangeAt > this.o.failoverTimeMillis + KCL_GRACEFUL_HANDOFF_TIMEOUT_MILLIS ? 'expired' : 'stuck-handoff';
    }
    if (lease.leaseOwner === undefined) return 'unowned';
    if (lease.leaseOwner === this.o.workerId) return 'orphaned';
    return stale ? 'expired' : 'live';
  }

  /**
   * Takes an available lease; when another worker took it first (a lost race, not an error), the
   * next spare instead, until one is taken or none is left. True if one was taken.
   */
  private async takeOrSpare(first: ClassifiedLease, spares: ClassifiedLease[], signal?: AbortSignal): Promise<boolean> {
    for (let candidate: ClassifiedLease | undefined = first; candidate; candidate = spares.shift()) {
      const outcome = await this.take(candidate.lease, candidate.status === 'orphaned' ? 'adopted' : 'taken', signal);
      if (outcome !== 'lost') return outcome === 'taken';
    }
    return false;
  }

  /**
   * A counter-conditioned take. `lost`: another writer changed the lease first (the condition
   * failed); `failed`: an error or an abort.
   */
  private async take(observed: Lease, acquisition: LeaseAcquisition, signal?: AbortSignal): Promise<'taken' | 'lost' | 'failed'> {
    const started = this.o.clock.monotonic();
    try {
      const result = await this.o.table.takeLease(observed, this.o.workerId, { maxAttempts: 3, ...(signal ? { signal } : {}) });
      this.o.metrics.call('TakeLease', result.ok, started, { Operation: LeaseMetricOperation.take });
      if (!result.ok) {
        this.o.logger.debug({ leaseKey: observed.leaseKey, acquisition }, 'lease taken by another worker first');
        return 'lost';
      }
      const lease: Lease = result.lease ?? { ...observed, leaseOwner: this.o.workerId, leaseCounter: result.counter };
      this.o.renewer.add(lease, acquisition, started, observed.leaseOwner === this.o.workerId ? undefined : observed.leaseOwner);
      return 'taken';
    } catch (err) {
      if (isAbortError(err) || signal?.aborted) return 'failed';
      this.o.metrics.call('TakeLease', false, started, { Operation: LeaseMetricOperation.take });
      this.failureLog.note(awsCodeOf(err) ?? 'unknown', (repeats) => this.o.logger.warn({ leaseKey: observed.leaseKey, ...errorFields(err), ...repeats }, 'take failed'));
      return 'failed';
    }
  }
}
