import {
  childLogger,
  errorFields,
  isAbortError,
  linkSignals,
  parseStreamConsumerArn,
  RepeatedLog,
  sleep,
  TypedEmitter,
  type Logger,
} from '@kinesis-kit/core';
import { ConsumerConfigError, ConsumerStoppedError, MultiStreamLeaseTableError } from '../errors.js';
import type { HeldLease } from '../leases/held-lease.js';
import type { Lease } from '../leases/lease.js';
import { LeaseCoordinator } from '../leases/lease-coordinator.js';
import { LEASE_DEFAULTS } from '../leases/options.js';
import { MetricsScope } from '../leases/metrics.js';
import { ShardConsumer } from '../processing/shard-consumer.js';
import type { ShardStatus } from '../processing/shard-consumer-state.js';
import { ensureStreamConsumer } from '../retrieval/fanout-registration.js';
import { NativeRecordData } from '../retrieval/native-record-data.js';
import { ShardLister } from '../shards/shard-lister.js';
import { ShardSyncer } from '../shards/shard-syncer.js';
import { resolveClients, type ConsumerClients } from './clients.js';
import type { KinesisConsumerEvents } from './events.js';
import { KclFleetWatch } from './kcl-fleet-watch.js';
import { resolveConsumerOptions, type KinesisConsumerOptions, type ResolvedConsumerOptions } from './options.js';

export type KinesisConsumerState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface StopConsumerOptions {
  /** How long to wait for processors to finish their batch and shutdownRequested (default: shutdownTimeoutMillis). */
  timeoutMillis?: number;
  /** Release leases so peers take them at once (default: leaseManagement.releaseLeasesOnStop, true). */
  releaseLeases?: boolean;
}

export interface ConsumerStatus {
  workerId: string;
  state: KinesisConsumerState;
  shards: ShardStatus[];
}

/** How often held leases are matched with shard consumers (besides the leaseAcquired event). */
const RECONCILE_INTERVAL_MILLIS = 1_000;
/** Start-up reuses its first listing of the lease table while it is at most this old. */
const START_LISTING_MAX_AGE_MILLIS = 10_000;

/**
 * A KCL-compatible consumer: the KCL lease table and protocol (LeaseCoordinator), shard sync and
 * resharding, one ShardConsumer per held lease running a ShardRecordProcessor, and a graceful
 * stop that checkpoints and releases leases so peers take over at once.
 */
export class KinesisConsumer {
  readonly options: ResolvedConsumerOptions;
  readonly coordinator: LeaseCoordinator;
  private readonly clients: ConsumerClients;
  private readonly emitter: TypedEmitter<KinesisConsumerEvents>;
  private readonly metrics: MetricsScope;
  private readonly logger: Logger;
  private readonly syncer: ShardSyncer;
  private readonly recordData: NativeRecordData;
  private readonly consumers = new Map<HeldLease, ShardConsumer>();
  private readonly loop = new AbortController();
  private readonly retrievalFailureLog: RepeatedLog;
  private stateValue: KinesisConsumerState = 'new';
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private cancelSyncTimer: (() => void) | undefined;
  private cancelReconcileTimer: (() => void) | undefined;
  private syncChain: Promise<unknown> = Promise.resolve();
  private readonly kclFleet: KclFleetWatch;
  /** The KCL fleet check after a timed shard sync pass, awaited by stop(). */
  private kclFleetRecheck: Promise<void> = Promise.resolve();
  private consumerArn: string | undefined;
  /** Pending restarts of shard consumers that failed. */
  private readonly restartTimers = new Set<() => void>();

  constructor(options: KinesisConsumerOptions) {
    const o = resolveConsumerOptions(options);
    this.options = o;
    this.clients = resolveClients(options);
    this.logger = childLogger(o.logger, { component: 'KinesisConsumer', workerId: o.workerId });
    this.retrievalFailureLog = new RepeatedLog(o.clock);
    this.recordData = new NativeRecordData(this.clients.kinesis, this.logger);
    this.emitter = new TypedEmitter<KinesisConsumerEvents>(this.logger);
    this.metrics = new MetricsScope(o.metrics, o.clock, { WorkerIdentifier: o.workerId });
    this.coordinator = namingConsumerFields(
      () =>
        new LeaseCoordinator({
          ...o.leaseManagement,
          dynamoDbClient: this.clients.dynamoDb,
          applicationName: o.applicationName,
          tableName: o.tableName,
          workerId: o.workerId,
          clock: o.clock,
          logger: o.logger,
          metrics: o.metrics,
          random: o.random,
        }),
      options.tableName === undefined,
    );
    const lister = new ShardLister({ kinesis: this.clients.kinesis, stream: o.stream, clock: o.clock, random: o.random, logger: this.logger });
    this.syncer = new ShardSyncer({
      table: this.coordinator.table,
      lister,
      initialPosition: o.initialPosition,
      initialTimestamp: o.initialTimestamp,
      clock: o.clock,
      logger: this.logger,
      metrics: this.metrics,
      releaseIfHeld: async (leaseKey, signal) => {
        await this.coordinator.releaseLease(leaseKey, signal);
      },
    });
    this.kclFleet = new KclFleetWatch({
      client: this.clients.dynamoDb,
      applicationName: o.applicationName,
      leaseTableName: o.tableName,
      describeLeaseTable: (signal) => this.coordinator.table.describe(signal),
      leaseTableWorkerReports: () => this.coordinator.table.kclWorkerReports,
      clock: o.clock,
      random: o.random,
      logger: this.logger,
      emit: (event) => this.emitter.emit('kclMigrationState', event),
    });
    this.coordinator.on('leaseAcquired', (event) => {
      this.emitter.emit('leaseAcquired', event);
      this.reconcile();
    });
    this.coordinator.on('leaseLost', (event) => this.emitter.emit('leaseLost', event));
    this.coordinator.on('leaseReleased', (event) => this.emitter.emit('leaseReleased', event));
    this.coordinator.on('leaseRenewalFailed', (event) => this.emitter.emit('leaseRenewalFailed', event));
    this.coordinator.on('takerRun', (event) => this.emitter.emit('takerRun', event));
    this.coordinator.on('takerFailed', (event) => this.emitter.emit('takerFailed', event));
  }

  get workerId(): string {
    return this.options.workerId;
  }

  get state(): KinesisConsumerState {
    return this.stateValue;
  }

  /** Subscribes to an event; returns the remover. */
  on<K extends keyof KinesisConsumerEvents>(event: K, listener: (payload: KinesisConsumerEvents[K]) => void | Promise<void>): () => void {
    return this.emitter.on(event, listener);
  }

  /** Resolves with the next payload of `event`. */
  next<K extends keyof KinesisConsumerEvents>(event: K, signal?: AbortSignal): Promise<KinesisConsumerEvents[K]> {
    return this.emitter.next(event, signal);
  }

  /**
   * Lease table ready (created if missing and allowed) and checked (a multi-stream KCL
   * application's table is refused with MultiStreamLeaseTableError before anything is registered,
   * created or taken), leases kept from a previous run of this workerId, leases created for the
   * stream's shards if the table is empty, a first taker pass, then processing. Resolves once
   * running; rejects (releasing everything) if the stream or the table cannot be used, and with
   * ConsumerStoppedError when stop() is called before it resolves (stop() then ends what began).
   */
  start(signal?: AbortSignal): Promise<void> {
    if (this.stateValue === 'stopping' || this.stateValue === 'stopped') {
      return Promise.reject(new ConsumerStoppedError('start() after stop(): create a new KinesisConsumer'));
    }
    this.startPromise ??= this.doStart(signal);
    return this.startPromise;
  }

  private async doStart(signal?: AbortSignal): Promise<void> {
    this.stateValue = 'starting';
    const linked = linkSignals(this.loop.signal, signal);
    try {
      const listing = await this.checkLeaseTable(linked.signal);
      const fanout = this.options.fanout;
      if (fanout) {
        this.consumerArn =
          fanout.consumerArn ??
          (await ensureStreamConsumer({
            kinesis: this.clients.kinesis,
            stream: this.options.stream,
            consumerName: fanout.consumerName,
            activationTimeoutMillis: fanout.activationTimeoutMillis,
            clock: this.options.clock,
            random: this.options.random,
            logger: this.logger,
            signal: linked.signal,
          }));
      }
      // The check's listing serves the coordinator's adoption and the first shard sync when it is
      // recent (a fan-out registration can take longer): two Scans and a DescribeTable fewer.
      const leases = listing && this.options.clock.monotonic() - listing.listedAt <= START_LISTING_MAX_AGE_MILLIS ? listing.leases : undefined;
      await this.coordinator.start(linked.signal, leases ? { leases } : {});
      await this.runShardSync(linked.signal, leases);
      linked.signal.throwIfAborted();
      this.stateValue = 'running';
      this.reconcile();
      await this.coordinator.runTakerOnce().catch((err: unknown) => {
        this.logger.warn(errorFields(err), 'first taker pass failed; the timer retries');
      });
      // A stop() during the first pass rejects start() like one during set-up (stop() ends what began).
      linked.signal.throwIfAborted();
      this.scheduleReconcile();
      this.scheduleShardSync();
      this.logger.info({ stream: this.options.stream, tableName: this.options.tableName }, 'consumer started');
    } catch (err) {
      // The loop is aborted by stop() alone; it waits for start() to settle, then shuts down gracefully whatever began.
      if (this.loop.signal.aborted) throw err;
      this.logger.error(errorFields(err), 'consumer start failed');
      await this.abandonStart();
      throw err;
    } finally {
      linked.dispose();
    }
  }

  /**
   * Start-up's first look at the lease table, before any lease is created or taken: the table is
   * made ready (DescribeTable, created if missing and allowed) and, unless just created, scanned
   * once. A table holding multi-stream KCL leases (`account:stream:creationEpoch:shardId` keys) is
   * refused: we consume one stream per table with single-stream keys, and would otherwise create
   * shard-id leases at initialPosition beside the KCL's checkpoints. A KCL 3.x fleet's migration
   * state is reported (KclFleetWatch). Returns the leases listed (none when the table was just
   * created) and when the listing began (monotonic).
   */
  private async checkLeaseTable(signal: AbortSignal): Promise<{ leases: Lease[]; listedAt: number } | undefined> {
    const table = this.coordinator.table;
    const { created, description } = await table.ensureTable(signal);
    if (created) return undefined;
    const listedAt = this.options.clock.monotonic();
    const leases = await table.listLeases({ signal });
    const multiStream = leases.find((l) => l.streamIdentifier !== undefined);
    if (multiStream) throw new MultiStreamLeaseTableError(table.tableName, multiStream.leaseKey);
    await this.kclFleet.checkAtStart(description, signal);
    return { leases, listedAt };
  }

  /** Undoes a failed start: leases released, consumers ended, clients destroyed. */
  private async abandonStart(): Promise<void> {
    this.stateValue = 'stopping';
    this.loop.abort(new ConsumerStoppedError('start failed'));
    for (const cancel of this.restartTimers) cancel();
    this.restartTimers.clear();
    for (const consumer of this.consumers.values()) consumer.requestShutdown();
    await this.coordinator.stop().catch(() => undefined);
    await this.waitFor([...this.consumers.values()], 1_000);
    this.consumers.clear();
    this.destroyClients();
    this.stateValue = 'stopped';
  }

  /**
   * Graceful stop: no new leases; each processor finishes its batch and gets shutdownRequested
   * (a checkpointer to use) within the timeout; leases are released so peers take them at their
   * next taker pass; clients we built are destroyed. Idempotent.
   */
  stop(options: StopConsumerOptions = {}): Promise<void> {
    if (this.stateValue === 'new') {
      this.stateValue = 'stopped';
      this.destroyClients();
      return Promise.resolve();
    }
    this.stopPromise ??= this.doStop(options);
    return this.stopPromise;
  }

  private async doStop(options: StopConsumerOptions): Promise<void> {
    this.stateValue = 'stopping';
    this.cancelSyncTimer?.();
    this.cancelReconcileTimer?.();
    for (const cancel of this.restartTimers) cancel();
    this.restartTimers.clear();
    this.loop.abort(new ConsumerStoppedError());
    await this.startPromise?.catch(() => undefined);
    const running = [...this.consumers.values()];
    for (const consumer of running) consumer.requestShutdown();
    const timeout = options.timeoutMillis ?? this.options.shutdownTimeoutMillis;
    const finished = await this.waitFor(running, timeout);
    if (!finished) this.logger.warn({ timeoutMillis: timeout }, 'processors did not finish in time; releasing their leases anyway');
    await this.syncChain.catch(() => undefined);
    // Advisory: whatever it ended with, leases are still released.
    await this.kclFleetRecheck.catch(() => undefined);
    await this.coordinator.stop(options.releaseLeases !== undefined ? { releaseLeases: options.releaseLeases } : {});
    // Released leases abort what was still running; give it a moment to unwind (user code is never killed).
    await this.waitFor(running, Math.min(timeout, 1_000));
    this.consumers.clear();
    this.destroyClients();
    this.stateValue = 'stopped';
    this.logger.info({}, 'consumer stopped');
  }

  /**
   * A fetcher found the stream consumer registered again under `arn`. Fetchers can report in any
   * order (their lookups are cached briefly), so only a later registration replaces the current one.
   */
  private adoptConsumerArn(arn: string): void {
    const current = this.consumerArn === undefined ? undefined : parseStreamConsumerArn(this.consumerArn);
    const next = parseStreamConsumerArn(arn);
    if (current && next && next.createdAtSeconds < current.createdAtSeconds) return;
    this.consumerArn = arn;
  }

  /** The enhanced fan-out consumer ARN in use (fan-out mode, once started). */
  get streamConsumerArn(): string | undefined {
    return this.consumerArn;
  }

  /** A snapshot per shard this worker holds: state, checkpoint, lag, progress. */
  status(): ConsumerStatus {
    return {
      workerId: this.options.workerId,
      state: this.stateValue,
      shards: [...this.consumers.values()].map((c) => c.status()).sort((a, b) => (a.shardId < b.shardId ? -1 : 1)),
    };
  }

  /** Runs a shard sync pass now (also runs every shardSyncIntervalMillis). */
  syncShards(): Promise<void> {
    return this.runShardSync(this.loop.signal);
  }

  /** `leases`: the table's leases listed moments ago (start-up), used instead of the pass's own scan. */
  private runShardSync(signal: AbortSignal, leases?: readonly Lease[]): Promise<void> {
    const run = this.syncChain.then(async () => {
      const started = this.options.clock.monotonic();
      const result = await this.syncer.sync(signal, leases ? { leases } : {});
      this.emitter.emit('shardSync', { ...result, durationMs: this.options.clock.monotonic() - started });
      if (result.created.length > 0 && this.coordinator.state === 'running') await this.coordinator.runTakerOnce().catch(() => undefined);
    });
    this.syncChain = run.catch(() => undefined);
    return run;
  }

  /** Starts a shard consumer for every held lease without one; forgets consumers whose lease is gone. */
  private reconcile(): void {
    if (this.stateValue !== 'running' && this.stateValue !== 'starting') return;
    for (const [held, consumer] of this.consumers) {
      if (!held.isHeld && consumer.finished) this.consumers.delete(held);
    }
    for (const held of this.coordinator.heldLeases()) {
      if (this.consumers.has(held)) continue;
      if (held.streamIdentifier !== undefined) continue; // multi-stream leases belong to a multi-stream application
      // The same shard re-acquired while the previous acquisition's processor is still finishing:
      // start when it is done, so one worker never runs two processors for a shard.
      if ([...this.consumers.values()].some((c) => c.leaseKey === held.leaseKey && !c.finished)) continue;
      const consumer = new ShardConsumer({
        held,
        options: this.options,
        kinesis: this.clients.kinesis,
        recordData: this.recordData,
        table: this.coordinator.table,
        syncer: this.syncer,
        metrics: this.metrics,
        logger: this.logger,
        retrievalFailureLog: this.retrievalFailureLog,
        events: this.emitter,
        consumerArn: this.consumerArn,
        onConsumerArnChanged: (arn) => this.adoptConsumerArn(arn),
        createCheckpointer: (h, operation) => this.coordinator.createCheckpointer(h, { metricsOperation: operation }),
        confirmHeld: (h) => this.coordinator.confirmHeld(h),
        localShardEnd: (shardId, signal) => this.localShardEnd(shardId, signal),
      });
      this.consumers.set(held, consumer);
      void consumer.done.then(() => {
        this.afterShardConsumer(consumer);
        this.reconcile(); // a re-acquired lease may have been waiting for this one
      });
    }
  }

  private afterShardConsumer(consumer: ShardConsumer): void {
    if (consumer.failed && consumer.heldLease.isHeld && (this.stateValue === 'running' || this.stateValue === 'starting')) {
      // Never leave a held shard without a consumer: a new one starts after a pause.
      const cancel = this.options.clock.setTimer(() => {
        this.restartTimers.delete(cancel);
        if (this.consumers.get(consumer.heldLease) === consumer) this.consumers.delete(consumer.heldLease);
        this.reconcile();
      }, this.options.failurePolicy.retryBaseDelayMillis * 4);
      this.restartTimers.add(cancel);
      return;
    }
    if (consumer.state === 'shard-ended' && this.stateValue === 'running') {
      // Children have leases now: take our share at once instead of at the next taker period.
      this.coordinator.runTakerOnce().catch(() => undefined);
    }
  }

  private localShardEnd(shardId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const off = this.emitter.on('shardEnded', (event) => {
        if (event.shardId !== shardId) return;
        off();
        resolve();
      });
      signal.addEventListener('abort', () => {
        off();
        resolve();
      }, { once: true });
    });
  }

  private scheduleReconcile(): void {
    if (this.stateValue !== 'running') return;
    this.cancelReconcileTimer = this.options.clock.setTimer(() => {
      this.reconcile();
      this.scheduleReconcile();
    }, RECONCILE_INTERVAL_MILLIS);
  }

  private scheduleShardSync(): void {
    if (this.stateValue !== 'running') return;
    this.cancelSyncTimer = this.options.clock.setTimer(() => {
      void this.timedShardSync().finally(() => this.scheduleShardSync());
    }, this.options.shardSyncIntervalMillis);
  }

  /** The periodic pass: a shard sync, then a look at a KCL 3.x fleet's migration state. Never rejects. */
  private async timedShardSync(): Promise<void> {
    try {
      await this.runShardSync(this.loop.signal);
    } catch (err) {
      if (!isAbortError(err) && !this.loop.signal.aborted) {
        this.logger.warn(errorFields(err), 'shard sync failed; retried at the next pass');
        this.emitter.emit('error', { operation: 'shardSync', error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
    this.kclFleetRecheck = this.kclFleet.recheck(this.loop.signal);
    try {
      await this.kclFleetRecheck;
    } catch (err) {
      if (!isAbortError(err) && !this.loop.signal.aborted) this.logger.warn(errorFields(err), 'could not look at the KCL 3.x fleet; tried again at the next pass');
    }
  }

  /** True if every consumer finished within `ms`. */
  private async waitFor(consumers: ShardConsumer[], ms: number): Promise<boolean> {
    const all = Promise.all(consumers.map((c) => c.done)).then(() => true);
    if (ms <= 0) return Promise.race([all, Promise.resolve(false)]);
    const timer = new AbortController();
    try {
      return await Promise.race([all, sleep(ms, timer.signal, this.options.clock).then(() => false, () => false)]);
    } finally {
      timer.abort();
    }
  }

  private destroyClients(): void {
    for (const client of this.clients.owned) client.destroy();
    this.clients.owned.length = 0;
  }
}

/**
 * The lease options are checked by the LeaseCoordinator, which names fields its own way; a
 * consumer's user set them as `leaseManagement.*`, and the table name may be the application name.
 */
function namingConsumerFields<T>(build: () => T, tableNameIsApplicationName: boolean): T {
  try {
    return build();
  } catch (err) {
    if (!(err instanceof ConsumerConfigError) || err.field === undefined) throw err;
    const message = err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
    if (err.field === 'tableName' || err.field === 'applicationName') {
      throw new ConsumerConfigError(tableNameIsApplicationName ? 'applicationName' : 'tableName', message);
    }
    if (err.field in LEASE_DEFAULTS || err.field === 'takerIntervalMillis') throw new ConsumerConfigError(`leaseManagement.${err.field}`, message);
    throw err;
  }
}
