import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { SentinelCheckpoint, type ExtendedSequenceNumber, type UserRecord } from '@kinesis-kit/aggregation';
import { backoffDelay, childLogger, errorFields, isAbortError, linkSignals, sleep, type Logger, type RepeatedLog, type TypedEmitter } from '@kinesis-kit/core';
import type { ShardCheckpointer } from '../checkpoint/checkpointer.js';
import type { KinesisConsumerEvents } from '../consumer/events.js';
import type { ResolvedConsumerOptions } from '../consumer/options.js';
import { LeaseLostError, ShardEndNotCheckpointedError } from '../errors.js';
import type { HeldLease } from '../leases/held-lease.js';
import type { LeaseTable } from '../leases/lease-table.js';
import type { MetricsScope } from '../leases/metrics.js';
import { PollingFetcher } from '../retrieval/polling-fetcher.js';
import { FanOutFetcher } from '../retrieval/fanout-fetcher.js';
import type { FetchedBatch, RecordsFetcher, RetrievalErrorInfo, StartPosition } from '../retrieval/records-fetcher.js';
import type { NativeRecordData } from '../retrieval/native-record-data.js';
import type { ShardSyncer } from '../shards/shard-syncer.js';
import { deliverBatch } from './batch-delivery.js';
import type { ChildShard, ShardRecordProcessor } from './processor.js';
import type { ShardConsumerState, ShardStatus } from './shard-consumer-state.js';
import { ShardRecordDecoder } from './shard-record-decoder.js';

export interface ShardConsumerContext {
  held: HeldLease;
  options: ResolvedConsumerOptions;
  kinesis: KinesisClient;
  /** Record Data decoded natively (GetRecords and SubscribeToShard) while this is on. */
  recordData: NativeRecordData;
  table: LeaseTable;
  syncer: ShardSyncer;
  metrics: MetricsScope;
  logger: Logger;
  /** The consumer's log of retrieval failures said again and again (once per code per 10 s across its shards). */
  retrievalFailureLog: RepeatedLog;
  events: TypedEmitter<KinesisConsumerEvents>;
  /** The registered stream consumer, in fan-out mode. */
  consumerArn: string | undefined;
  /** A fetcher found the stream consumer registered again under a new ARN (later shard consumers use it). */
  onConsumerArnChanged(consumerArn: string): void;
  createCheckpointer(held: HeldLease, operation: string): ShardCheckpointer;
  /** False once the lease is lost or has expired locally (then dropped as expired): deliver nothing more. */
  confirmHeld(held: HeldLease): boolean;
  /** Resolves when `shardId` ends on this worker (a local parent), or never. */
  localShardEnd(shardId: string, signal: AbortSignal): Promise<void>;
}

const SHARD_END = SentinelCheckpoint.SHARD_END;

/**
 * Runs one lease on this worker: waits for the parents, initializes the processor, fetches and
 * delivers batches under the failure policy, and ends with exactly one of shardEnded, leaseLost
 * or shutdownRequested. Processor calls never overlap; lease renewal never waits for them (it
 * runs on the coordinator's own timer). `done` settles when nothing of it is left running.
 */
export class ShardConsumer {
  readonly leaseKey: string;
  readonly shardId: string;
  readonly done: Promise<void>;
  /** True once `done` has settled. */
  finished = false;
  /** True when it ended on an unexpected error (e.g. the processor factory threw) while the lease was still held. */
  failed = false;
  private stateValue: ShardConsumerState = 'waiting-on-parents';
  private blockedOn: string[] | undefined;
  private readonly shutdown = new AbortController();
  private readonly logger: Logger;
  private processor: ShardRecordProcessor | undefined;
  private checkpointer: ShardCheckpointer | undefined;
  private fetcher: RecordsFetcher | undefined;
  private millisBehindLatest: number | undefined;
  private recordsProcessed = 0;
  private lastDelivered: ExtendedSequenceNumber | undefined;
  /** The last record processed, or skipped by the failure policy (failed deliveries are not). */
  private processedThrough: ExtendedSequenceNumber | undefined;
  /** shardEnded was called: it is the processor's last lifecycle call, whatever happens next. */
  private shardEndedCalled = false;

  constructor(private readonly ctx: ShardConsumerContext) {
    this.leaseKey = ctx.held.leaseKey;
    this.shardId = ctx.held.shardId;
    this.logger = childLogger(ctx.logger, { shardId: this.shardId });
    this.done = this.run()
      .catch((err: unknown) => {
        this.failed = true;
        this.logger.error(errorFields(err), 'shard consumer failed');
        this.ctx.events.emit('error', { operation: 'shardConsumer', shardId: this.shardId, error: asError(err) });
      })
      .finally(() => {
        this.finished = true;
      });
  }

  get state(): ShardConsumerState {
    return this.stateValue;
  }

  /** The held lease this consumer runs (one acquisition). */
  get heldLease(): HeldLease {
    return this.ctx.held;
  }

  /** Graceful stop: finish the batch in progress, call shutdownRequested, then resolve `done`. */
  requestShutdown(): void {
    this.shutdown.abort();
  }

  status(): ShardStatus {
    const checkpoint = this.checkpointer?.lastCheckpoint ?? this.ctx.held.lease.checkpoint;
    const status: ShardStatus = {
      shardId: this.shardId,
      leaseKey: this.leaseKey,
      state: this.stateValue,
      recordsProcessed: this.recordsProcessed,
      prefetchedRecords: this.fetcher?.buffered.records ?? 0,
    };
    if (checkpoint) {
      status.checkpoint = checkpoint.sequenceNumber;
      status.checkpointSubSequenceNumber = checkpoint.subSequenceNumber ?? 0;
    }
    if (this.millisBehindLatest !== undefined) status.millisBehindLatest = this.millisBehindLatest;
    if (this.blockedOn) status.blockedOn = [...this.blockedOn];
    return status;
  }

  private async run(): Promise<void> {
    const { held } = this.ctx;
    // Stops every wait and fetch on lease loss or shutdown; user code is never interrupted.
    const linked = linkSignals(held.signal, this.shutdown.signal);
    const signal = linked.signal;
    try {
      const lease = held.lease;
      if (lease.checkpoint?.sequenceNumber === SHARD_END) {
        // Finished by an earlier owner: only make sure its children have leases.
        await this.ensureChildrenOfFinished(signal);
        this.setState('shard-ended');
        return;
      }
      await this.waitForParents(signal);
      if (signal.aborted) return await this.finish();
      this.setState('initializing');
      this.checkpointer = this.ctx.createCheckpointer(held, 'ProcessTask');
      this.processor = this.ctx.options.processorFactory(this.shardId);
      await this.initialize(signal);
      if (signal.aborted) return await this.finish();
      this.setState('processing');
      const ended = await this.processUntilEnd(signal);
      if (ended) await this.endShard(ended, signal);
      if (signal.aborted) await this.finish();
    } catch (err) {
      if (!(isAbortError(err) || err instanceof LeaseLostError) || !signal.aborted) throw err;
      await this.finish();
    } finally {
      linked.dispose();
      await this.fetcher?.close();
    }
  }

  /**
   * Lease lost or shutdown requested: tell the processor (once), by which one it was, unless it
   * already had shardEnded (exactly one of the three ends a processor's life).
   */
  private async finish(): Promise<void> {
    if (this.stateValue === 'shard-ended' || this.stateValue === 'lease-lost' || this.stateValue === 'shutdown-complete') return;
    await this.fetcher?.close();
    const processor = this.shardEndedCalled ? undefined : this.processor;
    if (!this.ctx.held.isHeld) {
      this.setState('lease-lost');
      if (processor?.leaseLost) await this.callProcessor('leaseLost', () => processor.leaseLost!({}));
      return;
    }
    this.setState('shutting-down');
    if (processor?.shutdownRequested && this.checkpointer) {
      const checkpointer = this.checkpointer;
      await this.callProcessor('shutdownRequested', () => processor.shutdownRequested!({ shardId: this.shardId, checkpointer }));
    }
    this.setState('shutdown-complete');
  }

  private async waitForParents(signal: AbortSignal): Promise<void> {
    const parents = this.ctx.held.lease.parentShardIds;
    if (parents.length === 0) return;
    for (;;) {
      const blocking: string[] = [];
      try {
        for (const parent of parents) {
          const lease = await this.ctx.table.getLease(parent, { signal, consistentRead: true });
          if (lease && lease.checkpoint?.sequenceNumber !== SHARD_END) blocking.push(parent);
        }
      } catch (err) {
        if (signal.aborted) return;
        // DynamoDB still failing after its retries: the parents count as blocking until a read works.
        this.reportError('waitForParents', err);
        blocking.push(...parents);
      }
      if (blocking.length === 0) {
        this.blockedOn = undefined;
        return;
      }
      if (this.blockedOn?.join() !== blocking.join()) {
        this.blockedOn = blocking;
        this.ctx.events.emit('shardStateChanged', {
          shardId: this.shardId,
          leaseKey: this.leaseKey,
          state: 'waiting-on-parents',
          previous: this.stateValue,
          blockedOn: blocking,
        });
      }
      // Re-read after the poll interval, or at once when a parent ends on this worker.
      const wake = new AbortController();
      const linked = linkSignals(signal, wake.signal);
      try {
        await Promise.race([
          sleep(this.ctx.options.parentShardPollIntervalMillis, linked.signal, this.ctx.options.clock),
          ...blocking.map((p) => this.ctx.localShardEnd(p, linked.signal)),
        ]).catch(() => undefined);
      } finally {
        wake.abort();
        linked.dispose();
      }
      if (signal.aborted) return;
    }
  }

  private async initialize(signal: AbortSignal): Promise<void> {
    const checkpointer = this.checkpointer!;
    const processor = this.processor!;
    const position = this.ctx.held.lease.checkpoint ?? { sequenceNumber: this.ctx.options.initialPosition, subSequenceNumber: 0 };
    const pending = checkpointer.pendingCheckpoint;
    const input = {
      shardId: this.shardId,
      sequenceNumber: position.sequenceNumber,
      subSequenceNumber: position.subSequenceNumber ?? 0,
      ...(pending ? { pendingCheckpoint: pending } : {}),
    };
    if (!processor.initialize) return;
    for (let attempt = 1; !signal.aborted; attempt++) {
      const started = this.ctx.options.clock.monotonic();
      try {
        await processor.initialize(input);
        this.ctx.metrics.add('RecordProcessor.initialize.Time', this.ctx.options.clock.monotonic() - started, 'Milliseconds', {
          Operation: 'InitializeTask',
          ShardId: this.shardId,
        });
        return;
      } catch (err) {
        this.reportError('initialize', err);
        await sleep(this.retryDelay(attempt), signal, this.ctx.options.clock).catch(() => undefined);
      }
    }
  }

  /** Fetches and delivers until the shard ends (returns its children) or the signal aborts. */
  private async processUntilEnd(signal: AbortSignal): Promise<{ childShards: ChildShard[]; lastBatchHadRecords: boolean } | undefined> {
    const { options, held } = this.ctx;
    const checkpoint = held.lease.checkpoint;
    const fetcher = (this.fetcher = this.createFetcher(startPosition(checkpoint, options)));
    const decoder = new ShardRecordDecoder(held.lease.hashKeyRange, checkpoint);
    // Fetching stops at once on lease loss or shutdown, even while a processRecords never returns
    // (run() closes the fetcher only after it does): no GetRecords or subscription after stop().
    const stopFetching = (): void => void fetcher.close();
    signal.addEventListener('abort', stopFetching, { once: true });
    try {
      return await this.fetchAndDeliver(fetcher, decoder, signal);
    } finally {
      signal.removeEventListener('abort', stopFetching);
    }
  }

  private async fetchAndDeliver(
    fetcher: RecordsFetcher,
    decoder: ShardRecordDecoder,
    signal: AbortSignal,
  ): Promise<{ childShards: ChildShard[]; lastBatchHadRecords: boolean } | undefined> {
    const { options, metrics } = this.ctx;
    const dims = { Operation: 'ProcessTask', ShardId: this.shardId };
    while (!signal.aborted) {
      let batch: FetchedBatch;
      try {
        batch = await fetcher.next(signal);
      } catch (err) {
        if (signal.aborted) return undefined;
        throw err;
      }
      this.millisBehindLatest = batch.millisBehindLatest;
      metrics.add('MillisBehindLatest', batch.millisBehindLatest, 'Milliseconds', dims);
      const decoded = decoder.decode(batch.records);
      // Not even with callProcessRecordsEvenForEmptyRecordList for the empty batch at a shard's end: the
      // KCL's ProcessTask returns before processRecords there, and shardEnded follows.
      const deliver = decoded.records.length > 0 || (options.callProcessRecordsEvenForEmptyRecordList && !batch.shardEnd);
      if (deliver) {
        const outcome = await this.deliver(decoded.records, batch, signal);
        if (outcome === 'aborted') return undefined;
        metrics.add('RecordsProcessed', decoded.records.length, 'Count', dims);
        metrics.add('DataBytesProcessed', decoded.bytes, 'Bytes', dims);
      }
      if (batch.shardEnd) return { childShards: batch.shardEnd.childShards, lastBatchHadRecords: deliver };
    }
    return undefined;
  }

  private async deliver(records: UserRecord[], batch: FetchedBatch, signal: AbortSignal): Promise<'done' | 'aborted'> {
    const { options, metrics, events, held } = this.ctx;
    const processor = this.processor!;
    const checkpointer = this.checkpointer!;
    const outcome = await deliverBatch(records, {
      shardId: this.shardId,
      policy: options.failurePolicy,
      clock: options.clock,
      random: options.random,
      signal,
      invoke: async (part, attempt) => {
        // Renewal failing for failoverTimeMillis: a peer may be processing the shard by now.
        if (!this.ctx.confirmHeld(held)) throw new LeaseLostError(held.leaseKey, held.shardId);
        const last = part[part.length - 1];
        if (last) checkpointer.setLargestPermitted({ sequenceNumber: last.sequenceNumber, subSequenceNumber: last.subSequenceNumber });
        const started = options.clock.monotonic();
        const result = await processor.processRecords({
          shardId: this.shardId,
          records: part,
          checkpointer,
          millisBehindLatest: batch.millisBehindLatest,
          isAtShardEnd: batch.shardEnd !== undefined,
          ...(batch.shardEnd ? { childShards: batch.shardEnd.childShards } : {}),
          attempt,
          signal: held.signal,
        });
        metrics.add('RecordProcessor.processRecords.Time', options.clock.monotonic() - started, 'Milliseconds', {
          Operation: 'ProcessTask',
          ShardId: this.shardId,
        });
        if (last) this.lastDelivered = { sequenceNumber: last.sequenceNumber, subSequenceNumber: last.subSequenceNumber };
        // Counted per successful part; a partially failed part is counted when its retry succeeds.
        if (!result || result.batchItemFailures.length === 0) this.recordsProcessed += part.length;
        return result;
      },
      onError: (info) => {
        this.logger[info.willRetry ? 'warn' : 'error']({ attempt: info.attempt, records: info.records, ...errorFields(info.error) }, 'processRecords failed');
        events.emit('processingError', info);
      },
      onSkipped: (info) => {
        metrics.add('RecordsSkipped', info.records, 'Count', { Operation: 'ProcessTask', ShardId: this.shardId });
        events.emit('recordsSkipped', info);
      },
      onFinished: (record) => {
        this.processedThrough = { sequenceNumber: record.sequenceNumber, subSequenceNumber: record.subSequenceNumber };
      },
      onFailureHookFailed: (err) => this.reportError('onFailure', err),
    });
    // Abandoned mid-retry: an argument-less checkpoint (shutdownRequested) must not cover the records still failing.
    if (outcome === 'aborted') checkpointer.limitLargestPermitted(this.processedThrough);
    return outcome;
  }

  /**
   * The shard is read to its end: child leases (from ChildShards, or ListShards when the backend
   * sends none), then shardEnded with a checkpointer that writes SHARD_END, and SHARD_END
   * written by us if the processor did not (autoCheckpointAtShardEnd).
   */
  private async endShard(end: { childShards: ChildShard[] }, signal: AbortSignal): Promise<void> {
    const { syncer, held, options, events } = this.ctx;
    let children = end.childShards;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        if (children.length === 0) children = await syncer.childShardsFromListing(this.shardId, signal);
        await syncer.createChildLeases(held.lease, children, signal);
        break;
      } catch (err) {
        if (signal.aborted) return;
        this.reportError('childLeases', err);
        await sleep(this.retryDelay(attempt), signal, options.clock).catch(() => undefined);
      }
    }
    if (signal.aborted) return;
    const checkpointer = this.checkpointer!;
    checkpointer.markShardEnd(this.lastDelivered);
    const processor = this.processor!;
    for (let attempt = 1; !signal.aborted; attempt++) {
      this.shardEndedCalled = true;
      if (processor.shardEnded) await this.callProcessor('shardEnded', () => processor.shardEnded!({ shardId: this.shardId, checkpointer }));
      if (!held.isHeld) return;
      if (checkpointer.isShardEndCheckpointed) break;
      if (options.autoCheckpointAtShardEnd) {
        try {
          await checkpointer.checkpoint(); // the limit is SHARD_END now
          break;
        } catch (err) {
          if (err instanceof LeaseLostError) return;
          this.reportError('checkpoint', err);
        }
      } else {
        this.reportError('shardEnded', new ShardEndNotCheckpointedError(this.leaseKey, this.shardId));
      }
      await sleep(this.retryDelay(attempt), signal, options.clock).catch(() => undefined);
    }
    if (!checkpointer.isShardEndCheckpointed) return;
    this.setState('shard-ended');
    events.emit('shardEnded', { shardId: this.shardId, leaseKey: this.leaseKey, childShardIds: children.map((c) => c.shardId) });
  }

  /** A lease taken at SHARD_END: its children may still lack leases (e.g. closed shards from an empty-table sync). */
  private async ensureChildrenOfFinished(signal: AbortSignal): Promise<void> {
    const lease = this.ctx.held.lease;
    if (lease.childShardIds.length > 0) return;
    try {
      const children = await this.ctx.syncer.childShardsFromListing(this.shardId, signal);
      if (children.length > 0) await this.ctx.syncer.createChildLeases(lease, children, signal);
    } catch (err) {
      if (!signal.aborted) this.reportError('childLeases', err);
    }
  }

  private createFetcher(start: StartPosition): RecordsFetcher {
    const { options, kinesis, metrics, events, consumerArn } = this.ctx;
    const common = {
      kinesis,
      shardId: this.shardId,
      start,
      clock: options.clock,
      random: options.random,
      logger: this.logger,
      failureLog: this.ctx.retrievalFailureLog,
      metrics,
      onError: (info: RetrievalErrorInfo) => events.emit('retrievalError', info),
    };
    const recordData = this.ctx.recordData;
    if (options.fanout && consumerArn) {
      return new FanOutFetcher({ ...common, recordData, consumerArn, onConsumerArnChanged: (arn) => this.ctx.onConsumerArnChanged(arn), options: options.fanout });
    }
    return new PollingFetcher({ ...common, recordData, stream: options.stream, options: options.polling });
  }

  /** Runs a lifecycle call of the processor; its failure is reported, never thrown (the lifecycle goes on). */
  private async callProcessor(operation: string, fn: () => void | Promise<void>): Promise<void> {
    const started = this.ctx.options.clock.monotonic();
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof LeaseLostError)) this.reportError(operation, err);
    } finally {
      if (operation !== 'leaseLost') {
        this.ctx.metrics.add('RecordProcessor.shutdown.Time', this.ctx.options.clock.monotonic() - started, 'Milliseconds', {
          Operation: 'ShutdownTask',
          ShardId: this.shardId,
        });
      }
    }
  }

  private reportError(operation: string, err: unknown): void {
    this.logger.warn({ operation, ...errorFields(err) }, `${operation} failed`);
    this.ctx.events.emit('error', { operation, shardId: this.shardId, error: asError(err) });
  }

  private retryDelay(attempt: number): number {
    const p = this.ctx.options.failurePolicy;
    return backoffDelay(attempt, { baseMs: p.retryBaseDelayMillis, maxMs: p.retryMaxDelayMillis, jitter: 'equal', random: this.ctx.options.random });
  }

  private setState(state: ShardConsumerState): void {
    if (state === this.stateValue) return;
    const previous = this.stateValue;
    this.stateValue = state;
    this.logger.debug({ state, previous }, 'shard state');
    this.ctx.events.emit('shardStateChanged', { shardId: this.shardId, leaseKey: this.leaseKey, state, previous });
  }
}

/** The checkpoint as a retrieval start: sentinels map to iterator types, sequence numbers resume AT them (sub-records filtered). */
function startPosition(checkpoint: ExtendedSequenceNumber | undefined, options: ResolvedConsumerOptions): StartPosition {
  const value = checkpoint?.sequenceNumber ?? options.initialPosition;
  switch (value) {
    case SentinelCheckpoint.TRIM_HORIZON:
      return { type: 'TRIM_HORIZON' };
    case SentinelCheckpoint.LATEST:
      return { type: 'LATEST' };
    case SentinelCheckpoint.AT_TIMESTAMP:
      return options.initialTimestamp ? { type: 'AT_TIMESTAMP', timestamp: options.initialTimestamp } : { type: 'TRIM_HORIZON' };
    default:
      return { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: value };
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
