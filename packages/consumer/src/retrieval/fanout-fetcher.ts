import { SubscribeToShardCommand, type KinesisClient, type StartingPosition, type SubscribeToShardEvent } from '@aws-sdk/client-kinesis';
import { backoffDelay, classifyAwsError, linkSignals, sleep, type Clock, type Logger } from '@kinesis-kit/core';
import type { MetricsScope } from '../leases/metrics.js';
import { fetchedBatch, reportRetrievalError, toChildShards } from './fetched-batch.js';
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
  consumerArn: string;
  shardId: string;
  start: StartPosition;
  options: FanOutOptions;
  clock: Clock;
  random: () => number;
  logger: Logger;
  metrics: MetricsScope;
  onError(info: RetrievalErrorInfo): void;
}

/**
 * Enhanced fan-out for one shard: SubscribeToShard from the checkpoint, events into a bounded
 * queue (a full queue stops reading the event stream, so HTTP/2 flow control holds the service
 * back: memory stays flat behind a slow processor), a new subscription from the last
 * ContinuationSequenceNumber when one ends (about every 5 minutes), the 5-second rule between
 * subscriptions, backoff on errors, a watchdog for silent subscriptions, and a final batch with
 * ChildShards at the shard's end.
 */
export class FanOutFetcher extends QueuedFetcher {
  /** Where the next subscription starts: the original position until an event told us more. */
  private continuation: string | undefined;
  private lastSubscribeAt = Number.NEGATIVE_INFINITY;
  private failures = 0;

  constructor(private readonly ctx: FanOutFetcherContext) {
    super(ctx.options, ctx.logger);
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
    this.lastSubscribeAt = started;
    try {
      armWatchdog();
      const out = await kinesis.send(
        this.subscribeCommand(),
        { abortSignal: linked.signal },
      );
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
        const end = await this.deliver(event, signal);
        if (end) return 'shard-end';
        armWatchdog();
      }
      return 'ended';
    } catch (err) {
      if (signal.aborted) throw err;
      if (subscription.signal.aborted) return 'ended'; // the watchdog dropped it: subscribe again
      metrics.call('SubscribeToShard', false, started, { Operation: 'ProcessTask', ShardId: shardId });
      const c = classifyAwsError(err);
      if (c.code === 'ResourceNotFoundException') {
        // The shard (or stream, or consumer) is gone: treated as the shard's end, as the KCL does.
        this.report(err, 'permanent');
        await this.queue.push(fetchedBatch([], 0, clock.monotonic(), []), signal);
        return 'shard-end';
      }
      // ResourceInUse: a subscription from under 5 s ago (ours or a previous owner's); the cooldown covers it.
      this.report(err, c.code === 'ResourceInUseException' ? 'transient' : c.kind);
      return 'failed';
    } finally {
      cancelWatchdog?.();
      subscription.abort();
      linked.dispose();
    }
  }

  private subscribeCommand(): SubscribeToShardCommand {
    const { consumerArn, shardId, recordData } = this.ctx;
    const command = new SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: shardId, StartingPosition: this.startingPosition() });
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
