import { GetRecordsCommand, GetShardIteratorCommand, type GetRecordsCommandOutput, type KinesisClient } from '@aws-sdk/client-kinesis';
import { classifyAwsError, sleep, type Clock, type Logger, type RepeatedLog } from '@kinesis-kit/core';
import type { StreamRef } from '../consumer/stream-ref.js';
import type { MetricsScope } from '../leases/metrics.js';
import { PollPacer } from './poll-pacer.js';
import { QueuedFetcher } from './queued-fetcher.js';
import { fetchedBatch, reportRetrievalError, toChildShards } from './fetched-batch.js';
import type { RetrievalErrorInfo, StartPosition } from './records-fetcher.js';
import type { NativeRecordData } from './native-record-data.js';

export interface PollingOptions {
  /** GetRecords Limit (KCL maxRecords; at most 10000). Default 10000. */
  maxRecords: number;
  /** Shortest time between two GetRecords starts on one shard (200 ms = AWS's 5 calls/s). Default 200. */
  minTimeBetweenReadsMillis: number;
  /** Longest wait between polls of an idle shard (KCL idleTimeBetweenReadsInMillis; here the wait grows up to it). Default 1000. */
  idleTimeBetweenReadsMillis: number;
  /** Prefetch bound per shard, Kinesis records (KCL: 30000). */
  maxPrefetchRecords: number;
  /** Prefetch bound per shard, bytes (KCL: 8 MiB). */
  maxPrefetchBytes: number;
}

export const POLLING_DEFAULTS: PollingOptions = {
  maxRecords: 10_000,
  minTimeBetweenReadsMillis: 200,
  idleTimeBetweenReadsMillis: 1_000,
  maxPrefetchRecords: 30_000,
  maxPrefetchBytes: 8 * 1024 * 1024,
};

export interface PollingFetcherContext {
  kinesis: KinesisClient;
  /** Whether GetRecords Data is decoded natively (see records-response.ts); shared by the consumer's fetchers. */
  recordData: NativeRecordData;
  stream: StreamRef;
  shardId: string;
  start: StartPosition;
  options: PollingOptions;
  clock: Clock;
  random: () => number;
  logger: Logger;
  /** Shared by the consumer's shards: a failure all shards meet alike (an outage) is logged once per code per 10 s. Absent: every time. */
  failureLog?: RepeatedLog;
  metrics: MetricsScope;
  onError(info: RetrievalErrorInfo): void;
}

/**
 * Polls one shard with GetShardIterator + GetRecords into a bounded prefetch queue: paced by
 * PollPacer (never over 5 calls/s, fast while behind, slower while idle, backoff on throttling),
 * a new iterator after ExpiredIterator (AFTER_SEQUENCE_NUMBER of the last record fetched), and a
 * final batch carrying ChildShards when the shard is closed and read to its end.
 */
export class PollingFetcher extends QueuedFetcher {
  private readonly pacer: PollPacer;
  private lastSequenceNumber: string | undefined;
  /** KCL dimensions of retrieval metrics. */
  private readonly dims: Readonly<Record<string, string>>;

  constructor(private readonly ctx: PollingFetcherContext) {
    super(ctx.options, ctx.logger);
    const o = ctx.options;
    this.dims = { Operation: 'ProcessTask', ShardId: ctx.shardId };
    this.pacer = new PollPacer({
      minIntervalMillis: o.minTimeBetweenReadsMillis,
      idleMaxMillis: Math.max(o.minTimeBetweenReadsMillis, o.idleTimeBetweenReadsMillis),
      throttleBaseMillis: 500,
      throttleMaxMillis: 10_000,
      errorBaseMillis: 500,
      errorMaxMillis: 30_000,
      random: ctx.random,
    });
    this.start();
  }

  protected async run(): Promise<void> {
    const signal = this.controller.signal;
    let iterator: string | undefined;
    while (!signal.aborted) {
      if (iterator === undefined) {
        // First call, or the iterator expired / was rejected: continue after the last record fetched.
        const position: StartPosition = this.lastSequenceNumber
          ? { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: this.lastSequenceNumber }
          : this.ctx.start;
        const got = await this.getIterator(position, signal);
        if (got === 'gone') {
          await this.queue.push(fetchedBatch([], 0, this.ctx.clock.monotonic(), []), signal);
          return;
        }
        iterator = got.iterator;
        continue;
      }
      await sleep(this.pacer.delay(this.ctx.clock.monotonic()), signal, this.ctx.clock);
      const page = await this.getRecords(iterator, signal);
      if (page === 'expired') {
        iterator = undefined;
        continue;
      }
      if (page === 'retry') continue;
      if (page === 'gone') {
        await this.queue.push(fetchedBatch([], 0, this.ctx.clock.monotonic(), []), signal);
        return;
      }
      const records = page.Records ?? [];
      const last = records[records.length - 1];
      if (last?.SequenceNumber) this.lastSequenceNumber = last.SequenceNumber;
      const millisBehindLatest = page.MillisBehindLatest ?? 0;
      this.pacer.succeeded(records.length, millisBehindLatest);
      const next = page.NextShardIterator ?? undefined;
      const receivedAt = this.ctx.clock.monotonic();
      if (next === undefined) {
        await this.queue.push(fetchedBatch(records, millisBehindLatest, receivedAt, toChildShards(page.ChildShards)), signal);
        return;
      }
      await this.queue.push(fetchedBatch(records, millisBehindLatest, receivedAt), signal);
      iterator = next;
    }
  }

  /**
   * GetShardIterator, retried until it works or the fetcher closes. 'gone': the shard (or stream)
   * no longer exists, or it is closed and has no iterator left: treated as its end, as the KCL does.
   */
  private async getIterator(position: StartPosition, signal: AbortSignal): Promise<{ iterator: string } | 'gone'> {
    const { kinesis, stream, shardId, metrics, clock } = this.ctx;
    for (;;) {
      const started = clock.monotonic();
      try {
        const out = await kinesis.send(
          new GetShardIteratorCommand({
            ...stream,
            ShardId: shardId,
            ShardIteratorType: position.type,
            ...('sequenceNumber' in position ? { StartingSequenceNumber: position.sequenceNumber } : {}),
            ...('timestamp' in position ? { Timestamp: position.timestamp } : {}),
          }),
          { abortSignal: signal },
        );
        metrics.call('KinesisDataFetcher.getShardIterator', true, started, this.dims);
        // Its failures' backoff was waited out before each retry: the GetRecords that follows starts at once.
        this.pacer.backoffServed();
        return out.ShardIterator ? { iterator: out.ShardIterator } : 'gone';
      } catch (err) {
        if (signal.aborted) throw err;
        metrics.call('KinesisDataFetcher.getShardIterator', false, started, this.dims);
        const c = classifyAwsError(err);
        if (c.code === 'ResourceNotFoundException') {
          this.report('GetShardIterator', err, 'permanent');
          return 'gone';
        }
        this.backOff('GetShardIterator', err, c.kind);
        await sleep(this.pacer.delay(clock.monotonic()), signal, clock);
      }
    }
  }

  private async getRecords(iterator: string, signal: AbortSignal): Promise<GetRecordsCommandOutput | 'expired' | 'retry' | 'gone'> {
    const { kinesis, metrics, clock, options } = this.ctx;
    const started = clock.monotonic();
    this.pacer.callStarted(started);
    try {
      const command = this.ctx.recordData.apply(new GetRecordsCommand({ ShardIterator: iterator, Limit: options.maxRecords }));
      const out = await kinesis.send(command, { abortSignal: signal });
      metrics.call('KinesisDataFetcher.getRecords', true, started, this.dims);
      return out;
    } catch (err) {
      if (signal.aborted) throw err;
      metrics.call('KinesisDataFetcher.getRecords', false, started, this.dims);
      const c = classifyAwsError(err);
      if (c.code === 'ExpiredIteratorException' || c.code === 'InvalidArgumentException') {
        metrics.add('ExpiredIterator', 1, 'Count', this.dims);
        this.report('GetRecords', err, 'expired-iterator');
        return 'expired';
      }
      if (c.code === 'ResourceNotFoundException') {
        this.report('GetRecords', err, 'permanent');
        return 'gone';
      }
      this.backOff('GetRecords', err, c.kind);
      return 'retry';
    }
  }

  /** A failure worth retrying: reported, and the pacer backs off (throttling separately from the rest). */
  private backOff(operation: string, err: unknown, kind: RetrievalErrorInfo['kind']): void {
    this.report(operation, err, kind);
    if (kind === 'throttling') this.pacer.throttled();
    else this.pacer.failed();
  }

  /**
   * Every failure is a retrievalError event; the log says it at warn level when it is permanent,
   * from the 6th throttled call in a row (throttling now and then is normal), and from the 3rd
   * other failure in a row (5xx, network: a lone one is retried quietly, an outage is not quiet).
   */
  private report(operation: string, err: unknown, kind: RetrievalErrorInfo['kind']): void {
    const loud =
      kind === 'permanent' ||
      (kind === 'throttling' && this.pacer.consecutiveThrottles >= 5) ||
      ((kind === 'transient' || kind === 'network') && this.pacer.consecutiveErrors >= 2);
    reportRetrievalError(this.ctx, operation, err, kind, loud);
  }
}
