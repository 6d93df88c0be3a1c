import { childLogger, errorFields, isAbortError, linkSignals, sharedAbortController, TypedEmitter, type Logger } from '@kinesis-kit/core';
import { ShardCheckpointer } from '../checkpoint/checkpointer.js';
import { CoordinatorStoppedError, LeaseLostError } from '../errors.js';
import type { LeaseCoordinatorEvents, TakerRunEvent } from './events.js';
import type { HeldLease } from './held-lease.js';
import type { Lease } from './lease.js';
import { LeaseRenewer, type RenewalResult } from './lease-renewer.js';
import { LeaseTable } from './lease-table.js';
import { LeaseTaker } from './lease-taker.js';
import { MetricsScope } from './metrics.js';
import { resolveLeaseCoordinatorOptions, type LeaseCoordinatorOptions, type ResolvedLeaseCoordinatorOptions } from './options.js';

export type LeaseCoordinatorState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface StartLeaseCoordinatorOptions {
  /**
   * The table's leases as listed moments ago by a caller that already made the table ready
   * (`table.ensureTable()`, then `table.listLeases()`): start() then neither describes the table
   * nor scans it again, and keeps this worker's own leases from this list. Stale counters in it
   * only make those takes fail (the taker picks the leases up later), so "moments ago" means seconds.
   */
  leases?: readonly Lease[];
}

export interface StopLeaseCoordinatorOptions {
  /** Release held leases so peers take them at once (default: the releaseLeasesOnStop option, true). */
  releaseLeases?: boolean;
  /** Bounds the release writes. */
  signal?: AbortSignal;
}

/**
 * Holds this worker's share of the KCL lease table: a renewer on its own timer (failover/3 -
 * epsilon), a taker (a first pass soon after start, quick follow-ups while the split is not
 * settled, then the KCL's 2 x (failover + epsilon)), graceful release on stop, and typed events
 * (leaseAcquired / leaseLost / leaseReleased / leaseRenewalFailed / takerRun / takerFailed).
 * The shard consumer builds on heldLeases(), the events and createCheckpointer().
 */
export class LeaseCoordinator {
  readonly options: ResolvedLeaseCoordinatorOptions;
  readonly table: LeaseTable;
  private readonly emitter: TypedEmitter<LeaseCoordinatorEvents>;
  private readonly renewer: LeaseRenewer;
  private readonly taker: LeaseTaker;
  private readonly metrics: MetricsScope;
  private readonly logger: Logger;
  private stateValue: LeaseCoordinatorState = 'new';
  private loop: AbortController | undefined;
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private cancelRenewTimer: (() => void) | undefined;
  private cancelTakerTimer: (() => void) | undefined;
  private nextRenewDue = 0;
  private fastPassesInRow = 0;
  private renewChain: Promise<unknown> = Promise.resolve();
  private takerChain: Promise<unknown> = Promise.resolve();

  constructor(options: LeaseCoordinatorOptions) {
    const o = resolveLeaseCoordinatorOptions(options);
    this.options = o;
    this.logger = childLogger(o.logger, { component: 'LeaseCoordinator', workerId: o.workerId, tableName: o.tableName });
    this.emitter = new TypedEmitter<LeaseCoordinatorEvents>(this.logger);
    this.metrics = new MetricsScope(o.metrics, o.clock, { WorkerIdentifier: o.workerId });
    this.table = new LeaseTable({
      client: o.dynamoDbClient,
      tableName: o.tableName,
      clock: o.clock,
      random: o.random,
      logger: this.logger,
      createTableIfMissing: o.createTableIfMissing,
      billingMode: o.billingMode,
      readCapacity: o.initialLeaseTableReadCapacity,
      writeCapacity: o.initialLeaseTableWriteCapacity,
      tableActiveTimeoutMillis: o.tableActiveTimeoutMillis,
      consistentReads: o.consistentReads,
    });
    this.renewer = new LeaseRenewer({
      table: this.table,
      workerId: o.workerId,
      failoverTimeMillis: o.failoverTimeMillis,
      renewIntervalMillis: o.renewIntervalMillis,
      maxConcurrency: o.maxLeaseRenewalConcurrency,
      clock: o.clock,
      logger: this.logger,
      metrics: this.metrics,
      events: this.emitter,
    });
    this.taker = new LeaseTaker({
      table: this.table,
      renewer: this.renewer,
      workerId: o.workerId,
      failoverTimeMillis: o.failoverTimeMillis,
      maxLeasesForWorker: o.maxLeasesForWorker,
      maxLeasesToStealAtOneTime: o.maxLeasesToStealAtOneTime,
      clock: o.clock,
      logger: this.logger,
      metrics: this.metrics,
      events: this.emitter,
      random: o.random,
    });
  }

  get workerId(): string {
    return this.options.workerId;
  }

  get state(): LeaseCoordinatorState {
    return this.stateValue;
  }

  /** Subscribes to an event; returns the remover. */
  on<K extends keyof LeaseCoordinatorEvents>(event: K, listener: (payload: LeaseCoordinatorEvents[K]) => void | Promise<void>): () => void {
    return this.emitter.on(event, listener);
  }

  /** Resolves with the next payload of `event`. */
  next<K extends keyof LeaseCoordinatorEvents>(event: K, signal?: AbortSignal): Promise<LeaseCoordinatorEvents[K]> {
    return this.emitter.next(event, signal);
  }

  /**
   * Makes sure the table exists (DescribeTable, CreateTable if missing and allowed, wait for
   * ACTIVE), adopts the leases the table says are ours (same workerId after a restart), then starts
   * the renewer and taker timers. Idempotent. A coordinator is single-use: start after stop rejects.
   * With `options.leases`, the table is taken as ready and not scanned (see StartLeaseCoordinatorOptions).
   */
  start(signal?: AbortSignal, options: StartLeaseCoordinatorOptions = {}): Promise<void> {
    if (this.stateValue === 'stopping' || this.stateValue === 'stopped') {
      return Promise.reject(new CoordinatorStoppedError('start() after stop(): create a new LeaseCoordinator'));
    }
    this.startPromise ??= this.doStart(signal, options.leases);
    return this.startPromise;
  }

  private async doStart(signal: AbortSignal | undefined, listed: readonly Lease[] | undefined): Promise<void> {
    this.stateValue = 'starting';
    const loop = sharedAbortController();
    this.loop = loop;
    const linked = linkSignals(loop.signal, signal);
    try {
      if (!listed) {
        const { created } = await this.table.ensureTable(linked.signal);
        if (created) this.logger.info({}, 'lease table created');
      }
      try {
        const adopted = await this.taker.adoptOwnLeases(linked.signal, listed);
        if (adopted > 0) this.logger.info({ adopted }, 'kept leases from a previous run of this worker');
      } catch (err) {
        if (isAbortError(err) || linked.signal.aborted) throw err;
        this.logger.warn(errorFields(err), 'could not adopt own leases at start; the taker will pick them up');
      }
      if (loop.signal.aborted) throw new CoordinatorStoppedError('stopped while starting');
      this.stateValue = 'running';
      const now = this.options.clock.monotonic();
      this.nextRenewDue = now + this.options.renewIntervalMillis;
      this.scheduleRenewal(this.options.renewIntervalMillis);
      this.scheduleTaker(Math.floor(this.options.random() * this.options.takerInitialJitterMillis));
    } catch (err) {
      if (this.stateValue === 'starting') {
        // Allow a later start() (e.g. the table was not created yet by IaC).
        this.stateValue = 'new';
        this.startPromise = undefined;
        this.loop = undefined;
      }
      throw err;
    } finally {
      linked.dispose();
    }
  }

  /**
   * Stops the timers and in-flight passes, then releases every held lease (REMOVE leaseOwner,
   * counter + 1) so peers take them at their next taker pass instead of after failover time.
   * Idempotent; resolves once nothing of the coordinator is left running.
   */
  stop(options: StopLeaseCoordinatorOptions = {}): Promise<void> {
    if (this.stateValue === 'new') {
      this.stateValue = 'stopped';
      return Promise.resolve();
    }
    this.stopPromise ??= this.doStop(options);
    return this.stopPromise;
  }

  private async doStop(options: StopLeaseCoordinatorOptions): Promise<void> {
    this.stateValue = 'stopping';
    this.cancelRenewTimer?.();
    this.cancelTakerTimer?.();
    this.cancelRenewTimer = undefined;
    this.cancelTakerTimer = undefined;
    this.loop?.abort(new CoordinatorStoppedError());
    await this.startPromise?.catch(() => undefined);
    await Promise.allSettled([this.renewChain, this.takerChain]);
    const release = options.releaseLeases ?? this.options.releaseLeasesOnStop;
    if (release) {
      await Promise.all(this.renewer.all().map((h) => this.renewer.release(h, options.signal)));
    }
    this.renewer.dropAll('stopped');
    this.stateValue = 'stopped';
    this.logger.info({ released: release }, 'lease coordinator stopped');
  }

  /** Leases held right now: not lost, not released, not expired locally (as the KCL's assignments). */
  heldLeases(): HeldLease[] {
    return this.renewer.all().filter((h) => h.isHeld && !this.renewer.isLocallyExpired(h));
  }

  getHeldLease(leaseKey: string): HeldLease | undefined {
    const h = this.renewer.get(leaseKey);
    return h?.isHeld && !this.renewer.isLocallyExpired(h) ? h : undefined;
  }

  /** True while `h` is held and not expired locally; an expired lease is dropped (leaseLost, reason 'expired'). */
  confirmHeld(h: HeldLease): boolean {
    return this.renewer.confirmHeld(h);
  }

  /** Runs one renewal pass now (serialised with the timer's passes). */
  async runRenewalOnce(): Promise<RenewalResult> {
    const signal = this.requireRunning();
    const run = this.renewChain.then(() => this.renewer.renewAll(signal));
    this.renewChain = run.catch(() => undefined);
    return run;
  }

  /** Runs one taker pass now (serialised with the timer's passes). */
  async runTakerOnce(): Promise<TakerRunEvent> {
    const signal = this.requireRunning();
    const run = this.takerChain.then(() => this.taker.runOnce(signal));
    this.takerChain = run.catch(() => undefined);
    return run;
  }

  /** Gracefully gives up one lease (e.g. after its shard ended). Returns true if the table shows it unowned. */
  releaseLease(leaseKey: string, signal?: AbortSignal): Promise<boolean> {
    const h = this.renewer.get(leaseKey);
    if (!h?.isHeld) return Promise.resolve(false);
    return this.renewer.release(h, signal);
  }

  /**
   * The checkpointer for one held lease (one per shard consumer). It stays bound to this
   * acquisition: once the lease is lost or released, its calls reject with LeaseLostError.
   */
  createCheckpointer(lease: HeldLease | string, options: { metricsOperation?: string } = {}): ShardCheckpointer {
    const h = typeof lease === 'string' ? this.renewer.get(lease) : lease;
    if (!h?.isHeld) {
      const key = typeof lease === 'string' ? lease : lease.leaseKey;
      throw new LeaseLostError(key, h?.shardId ?? key);
    }
    return new ShardCheckpointer(this.renewer, h, {
      clock: this.options.clock,
      metrics: this.metrics,
      ...(options.metricsOperation !== undefined ? { metricsOperation: options.metricsOperation } : {}),
    });
  }

  // ---------------------------------------------------------------- timers

  private requireRunning(): AbortSignal {
    if (this.stateValue !== 'running' || !this.loop) throw new CoordinatorStoppedError('the lease coordinator is not running');
    return this.loop.signal;
  }

  private scheduleRenewal(delay: number): void {
    if (this.stateValue !== 'running') return;
    this.cancelRenewTimer = this.options.clock.setTimer(() => {
      this.cancelRenewTimer = undefined;
      void this.renewTick();
    }, delay);
  }

  private async renewTick(): Promise<void> {
    try {
      await this.runRenewalOnce();
    } catch (err) {
      if (!isAbortError(err) && this.stateValue === 'running') this.logger.error(errorFields(err), 'renewal pass failed');
    }
    // Fixed rate, as the KCL's renewer; a pass that overran is followed at once, never overlapped.
    const now = this.options.clock.monotonic();
    this.nextRenewDue += this.options.renewIntervalMillis;
    if (this.nextRenewDue < now) this.nextRenewDue = now;
    this.scheduleRenewal(this.nextRenewDue - now);
  }

  private scheduleTaker(delay: number): void {
    if (this.stateValue !== 'running') return;
    this.cancelTakerTimer = this.options.clock.setTimer(() => {
      this.cancelTakerTimer = undefined;
      void this.takerTick();
    }, delay);
  }

  private async takerTick(): Promise<void> {
    let settled = false;
    let totalLeases = Infinity;
    let nextExpiry: number | undefined;
    try {
      const run = await this.runTakerOnce();
      settled = run.settled;
      totalLeases = run.totalLeases;
      nextExpiry = run.nextExpiryInMillis;
    } catch (err) {
      if (isAbortError(err) || this.stateValue !== 'running') return;
      const error = err instanceof Error ? err : new Error(String(err));
      this.logger.warn(errorFields(err), 'taker pass failed');
      this.emitter.emit('takerFailed', { error });
    }
    const o = this.options;
    let delay =
      o.smallTableTakerIntervalMillis !== undefined && totalLeases <= o.smallTableMaxLeases ? o.smallTableTakerIntervalMillis : o.takerIntervalMillis;
    if (settled || this.fastPassesInRow >= o.maxFastTakerPasses) {
      this.fastPassesInRow = 0;
    } else {
      // Not settled: look again soon (jittered so peers do not scan in lock-step).
      this.fastPassesInRow += 1;
      delay = Math.round(o.fastTakerIntervalMillis * (0.75 + 0.5 * o.random()));
    }
    // Look again the moment a silent worker's lease would expire, not up to a period later.
    if (o.expiryLookAhead && nextExpiry !== undefined && nextExpiry + o.epsilonMillis < delay) delay = nextExpiry + o.epsilonMillis;
    this.scheduleTaker(delay);
  }
}
