import { SubscribeToShardCommand, type KinesisClient, type StartingPosition, type SubscribeToShardEvent } from '@aws-sdk/client-kinesis';
import { backoffDelay, classifyAwsError, errorFields, linkSignals, sleep, type Clock, type Logger, type RepeatedLog } from '@kinesis-kit/core';
import type { MetricsScope } from '../leases/metrics.js';
import { fetchedBatch, reportRetrievalError, toChildShards } from './fetched-batch.js';
import { checkSubscriptionNotFound } from './fanout-not-found.js';
import { QueuedFetcher } from './queued-fetcher.js';
import type { NativeRecordData } from './native-record-data.js';
import type { RetrievalErrorInfo, StartPosition } from './records-fetcher.js';

export interface FanOutOptions {
  /** No event (AWS sends one at least every 5 s) for this long: the subscription is dropped and renewed. Default 30000. */
  subscriptionIdleTimeoutMillis: number;
  /** Prefetch bound per shard, Kinesis records. Default 30000. */
  maxPrefetchRecords: number;
  /** Prefetch bound per shard, bytes. Default 8 MiB. */
  maxPrefetchBytes: number;
  /** Least time between two subscriptions of a shard: AWS refuses a second one within 5 s (ResourceInUse). Lower it only for emulators. Default 5000. */
  subscribeCooldownMillis: number;
}

export const FANOUT_DEFAULTS: FanOutOptions = {
  subscriptionIdleTimeoutMillis: 30_000,
  subscribeCooldownMillis: 5_000,
  maxPrefetchRecords: 30_000,
  maxPrefetchBytes: 8 * 1024 * 1024,
};

export interface FanOutFetcherContext {
  kinesis: KinesisClient;
  /** Whether event Data is decoded natively (see event-record-data.ts); shared by the consumer's fetchers. Absent: by the SDK. */
  recordData?: NativeRecordData;
  /**
   * The stream consumer to subscribe with. If it is deregistered and a consumer of the same name is
   * registered again (a new ARN), the fetcher goes on with the new one.
   */
  consumerArn: string;
  /** Told when the fetcher goes on with a stream consumer registered again under a new ARN. */
  onConsumerArnChanged?(consumerArn: string): void;
  shardId: string;
  start: StartPosition;
  options: FanOutOptions;
  clock: Clock;
  random: () => number;
  logger: Logger;
  /** Shared by the consumer's shards: a failure all shards meet alike (an outage) is logged once per code per 10 s. Absent: every time. */
  failureLog?: RepeatedLog;
  metrics: MetricsScope;
  onError(info: RetrievalErrorInfo): void;
}

/**
 * Enhanced fan-out for one shard: SubscribeToShard from the checkpoint, events into a bounded
 * queue (a full queue stops reading the event stream, so HTTP/2 flow control holds the service
 * back: memory stays flat behind a slow processor), a new subscription from the last
 * ContinuationSequenceNumber when one ends (about every 5 minutes), the 5-second rule between
 * subscriptions, backoff on errors, a watchdog for silent subscriptions, and a final batch with
 * ChildShards at the shard's end. A ResourceNotFoundException is the shard's end only once the
 * stream is confirmed deleted or the shard gone (fanout-not-found.ts): a deregistered stream
 * consumer is a retriable error, not the end of an open shard.
 */
export class FanOutFetcher extends QueuedFetcher {
  /** Where the next subscription starts: the original position until an event told us more. */
  private continuation: string | undefined;
  private lastSubscribeAt = Number.NEGATIVE_INFINITY;
  private failures = 0;
  /** The stream consumer subscribed with: ctx.consumerArn, or the ARN it was registered again under. */
  private consumerArn: string;
  /** Set while subscriptions fail because the stream consumer is deregistered (warned once per outage). */
  private consumerMissing = false;

  constructor(private readonly ctx: FanOutFetcherContext) {
    super(ctx.options, ctx.logger);
    this.consumerArn = ctx.consumerArn;
    this.start();
  }

  protected async run(): Promise<void> {
    const signal = this.controller.signal;
    const { clock } = this.ctx;
    while (!signal.aborted) {
      const wait = this.lastSubscribeAt + this.ctx.options.subscribeCooldownMillis - clock.monotonic();
      if (wait > 0) await sleep(wait, signal, clock);
      const outcome = await this.subscribeOnce(signal);
      if (outcome === 'shard-end') return;
      if (outcome === 'failed') {
        this.failures += 1;
        const delay = backoffDelay(this.failures, { baseMs: 1_000, maxMs: 30_000, jitter: 'equal', random: this.ctx.random });
        await sleep(delay, signal, clock);
      }
    }
  }

  /** One subscription, read until it ends. */
  private async subscribeOnce(signal: AbortSignal): Promise<'ended' | 'shard-end' | 'failed'> {
    const { kinesis, shardId, clock, metrics, options } = this.ctx;
    const subscription = new AbortController();
    const linked = linkSignals(signal, subscription.signal);
    let cancelWatchdog: (() => void) | undefined;
    const armWatchdog = (): void => {
      cancelWatchdog?.();
      cancelWatchdog = clock.setTimer(() => {
        this.ctx.logger.warn({ shardId, idleMillis: options.subscriptionIdleTimeoutMillis }, 'no event on the subscription; subscribing again');
        metrics.add('SubscriptionIdleTimeout', 1, 'Count', { Operation: 'ProcessTask', ShardId: shardId });
        subscription.abort();
      }, options.subscriptionIdleTimeoutMillis);
    };
    const started = clock.monotonic();
    try {
      armWatchdog();
      const out = await kinesis.send(
        this.subscribeCommand(),
        { abortSignal: linked.signal },
      );
      // The service times its 5-second rule from the call it accepted, not from when a (maybe slow) request left.
      this.lastSubscribeAt = clock.monotonic();
      metrics.call('SubscribeToShard', true, started, { Operation: 'ProcessTask', ShardId: shardId });
      if (!out.EventStream) return 'failed';
      for await (const message of out.EventStream) {
        // Not armed while the queue is full: a slow processor is not a silent subscription.
        cancelWatchdog?.();
        const event = message.SubscribeToShardEvent;
        if (!event) {
          const name = Object.keys(message).find((k) => k !== '$unknown') ?? 'UnknownEvent';
          this.report(new Error(`${name} in the event stream`), name === 'InternalFailureException' ? 'transient' : 'permanent');
          return 'failed';
        }
        this.failures = 0;
        if (this.consumerMissing) {
          this.consumerMissing = false;
          this.ctx.logger.info({ shardId, consumerArn: this.consumerArn }, 'subscribed again with the stream consumer; reading on from where it stopped');
        }
        const end = await this.deliver(event, signal);
        if (end) return 'shard-end';
        armWatchdog();
      }
      return 'ended';
    } catch (err) {
      if (signal.aborted) throw err;
      if (subscription.signal.aborted) return 'ended'; // the watchdog dropped it: subscribe again
      cancelWatchdog?.();
      metrics.call('SubscribeToShard', false, started, { Operation: 'ProcessTask', ShardId: shardId });
      const c = classifyAwsError(err);
      if (c.code === 'ResourceNotFoundException') return await this.onNotFound(err, signal);
      // ResourceInUse: a subscription from under 5 s ago (ours or a previous owner's); the cooldown covers it.
      this.report(err, c.code === 'ResourceInUseException' ? 'transient' : c.kind);
      return 'failed';
    } finally {
      cancelWatchdog?.();
      subscription.abort();
      linked.dispose();
    }
  }

  /**
   * ResourceNotFound names no culprit: the stream, the shard or the stream consumer. The KCL takes
   * every one for the shard's end; here it is the end only when the lookups confirm it (stream
   * deleted, shard gone, or shard closed while the consumer is fine). A missing consumer is retried
   * from the same continuation, so nothing is skipped or delivered twice.
   */
  private async onNotFound(err: unknown, signal: AbortSignal): Promise<'ended' | 'shard-end' | 'failed'> {
    const { kinesis, shardId, clock, random, logger } = this.ctx;
    const consumerArn = this.consumerArn;
    const verdict = await checkSubscriptionNotFound({ kinesis, consumerArn, originalConsumerArn: this.ctx.consumerArn, shardId, clock, random, logger }, signal);
    switch (verdict.action) {
      case 'shard-end':
        logger.info({ shardId, consumerArn, reason: verdict.reason }, 'SubscribeToShard: ResourceNotFound, and the shard has ended: treated as its end');
        this.report(err, 'permanent');
        await this.queue.push(fetchedBatch([], 0, clock.monotonic(), []), signal);
        return 'shard-end';
      case 'resubscribe':
        logger.warn(
          { shardId, consumerArn: verdict.consumerArn, previousConsumerArn: consumerArn },
          'the stream consumer was deregistered and registered again under a new ARN: subscribing with the new one',
        );
        this.report(err, 'transient');
        this.consumerArn = verdict.consumerArn;
        this.ctx.onConsumerArnChanged?.(verdict.consumerArn);
        return 'ended';
      case 'retry':
        if (verdict.reason === 'consumer-missing') {
          const e = verdict.error;
          if (!this.consumerMissing) {
            logger.warn(
              { shardId, consumerArn, consumerName: e.consumerName, consumerState: e.consumerState, stream: e.stream },
              'the stream consumer was deregistered: the shard is not at its end, subscribing again with backoff until a consumer of that name is ACTIVE (register it again, e.g. by starting a worker)',
            );
          }
          this.consumerMissing = true;
          this.report(e, 'transient');
        } else {
          logger.warn(
            { shardId, consumerArn, detail: verdict.detail, ...(verdict.cause === undefined ? {} : errorFields(verdict.cause)) },
            'SubscribeToShard: ResourceNotFound not confirmed as the shard\'s end; subscribing again',
          );
          this.report(err, 'transient');
        }
        return 'failed';
    }
  }

  private subscribeCommand(): SubscribeToShardCommand {
    const { shardId, recordData } = this.ctx;
    const command = new SubscribeToShardCommand({ ConsumerARN: this.consumerArn, ShardId: shardId, StartingPosition: this.startingPosition() });
    return recordData === undefined ? command : recordData.applyToSubscription(command);
  }

  /** Queues one event's records (waits while the queue is full). True at the shard's end. */
  private async deliver(event: SubscribeToShardEvent, signal: AbortSignal): Promise<boolean> {
    const records = event.Records ?? [];
    const children = event.ChildShards ?? [];
    const atEnd = children.length > 0 && !event.ContinuationSequenceNumber;
    const batch = fetchedBatch(records, event.MillisBehindLatest ?? 0, this.ctx.clock.monotonic(), atEnd ? toChildShards(children) : undefined);
    // Heartbeats (no records) are queued only into an empty queue: they carry millisBehindLatest.
    if (records.length > 0 || atEnd || this.queue.size === 0) await this.queue.push(batch, signal);
    // Moved only once the records are queued, so a subscription cut mid-push resumes before them.
    if (event.ContinuationSequenceNumber) this.continuation = event.ContinuationSequenceNumber;
    return atEnd;
  }

  private startingPosition(): StartingPosition {
    if (this.continuation) return { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: this.continuation };
    const start = this.ctx.start;
    switch (start.type) {
      case 'AT_SEQUENCE_NUMBER':
      case 'AFTER_SEQUENCE_NUMBER':
        return { Type: start.type, SequenceNumber: start.sequenceNumber };
      case 'AT_TIMESTAMP':
        return { Type: 'AT_TIMESTAMP', Timestamp: start.timestamp };
      default:
        return { Type: start.type };
    }
  }

  private report(err: unknown, kind: RetrievalErrorInfo['kind']): void {
    reportRetrievalError(this.ctx, 'SubscribeToShard', err, kind, kind === 'permanent' || this.failures >= 5);
  }
}
