import { TokenBucket, type Clock, type Logger } from '@kinesis-kit/core';
import type { SubscriptionRequest } from './api/context.js';
import type { KinesisEngine } from './engine.js';
import { AwsErrorName, resourceInUse } from './errors.js';
import { eventMessage, exceptionMessage } from './event-stream.js';
import type { ConsumerState, ShardListener, ShardState, StreamState } from './model.js';

/** Where a subscription writes its event-stream frames (an HTTP/1.1 or HTTP/2 response). */
export interface SubscriptionSink {
  /** Returns false when the client is not keeping up; then `onDrain` is called once it is. */
  write(frame: Buffer): boolean;
  onDrain(fn: () => void): void;
  /** Ends the response cleanly (the client's iterator finishes). */
  end(): void;
  /** Drops the connection/stream without ending the response. */
  abort(): void;
  /** Called when the client goes away or the response is finished. */
  onClose(fn: () => void): void;
}

export interface SubscriptionSettings {
  durationMs: number;
  heartbeatMs: number;
  cooldownMs: number;
}

export interface SubscriptionFaults {
  stall: boolean;
  streamErrorRate: number;
  streamErrorCode: string;
  roll: (rate: number) => boolean;
}

/** Which subscriptions an endSubscriptions() call affects, and how they end. */
export interface EndSubscriptionsOptions {
  streamName?: string;
  shardId?: string;
  consumerArn?: string;
  /** End with an exception frame of this type (e.g. 'InternalFailureException') instead of a clean end. */
  error?: string;
  /** Drop the connection instead of ending the response. */
  abort?: boolean;
}

/** Records per event and bytes per event: one event stays well under the SDK's frame limits. */
const MAX_RECORDS_PER_EVENT = 10_000;
const MAX_BYTES_PER_EVENT = 2 * 1024 * 1024;
/** Events written in one turn before yielding to the event loop. */
const EVENTS_PER_TURN = 8;

/**
 * One SubscribeToShard response: `initial-response`, then SubscribeToShardEvent frames pushed as
 * records arrive (coalesced to the next event-loop turn), an empty event as a heartbeat when idle,
 * ChildShards at the end of a closed shard (then the stream ends), and a clean end after the
 * subscription's duration.
 */
export class Subscription implements ShardListener {
  private position: number;
  private ended = false;
  private waitingForDrain = false;
  private flushQueued = false;
  private readonly cancels: (() => void)[] = [];
  private cancelHeartbeat: (() => void) | undefined;
  private cancelRateWait: (() => void) | undefined;
  private readonly bucket: TokenBucket;
  private sentFirstEvent = false;
  readonly startedAtMs: number;

  constructor(
    private readonly manager: SubscriptionManager,
    readonly consumer: ConsumerState,
    readonly stream: StreamState,
    readonly shard: ShardState,
    startCounter: number,
    private readonly sink: SubscriptionSink,
    private readonly faults: SubscriptionFaults,
  ) {
    this.position = startCounter;
    const engine = manager.engine;
    const rate = engine.limits.subscriptionBytesPerSecond;
    this.bucket = new TokenBucket(rate, rate * engine.limits.burstSeconds, engine.clock.monotonic());
    this.startedAtMs = engine.clock.now();
  }

  get key(): string {
    return subscriptionKey(this.consumer, this.shard);
  }

  get active(): boolean {
    return !this.ended;
  }

  start(): void {
    const clock = this.manager.engine.clock;
    this.sink.onClose(() => this.cleanup());
    this.sink.write(eventMessage('initial-response', '{}'));
    this.cancels.push(clock.setTimer(() => this.finish(), this.manager.settings.durationMs));
    if (this.faults.stall) return;
    this.shard.listeners.add(this);
    this.flush(true);
  }

  onShardChanged(): void {
    if (this.ended || this.flushQueued) return;
    this.flushQueued = true;
    // Coalesce appends of the same turn (one PutRecords call) into one event.
    setImmediate(() => {
      this.flushQueued = false;
      this.flush(false);
    });
  }

  /** Ends the response cleanly. */
  finish(): void {
    if (this.ended) return;
    this.cleanup();
    this.sink.end();
  }

  /** Ends the stream with an exception frame. */
  fail(exceptionType: string, message: string): void {
    if (this.ended) return;
    this.cleanup();
    this.sink.write(exceptionMessage(exceptionType, message));
    this.sink.end();
  }

  abort(): void {
    if (this.ended) return;
    this.cleanup();
    this.sink.abort();
  }

  private cleanup(): void {
    if (this.ended) return;
    this.ended = true;
    this.shard.listeners.delete(this);
    for (const c of this.cancels) c();
    this.cancelHeartbeat?.();
    this.cancelRateWait?.();
    this.manager.forget(this);
  }

  private armHeartbeat(): void {
    this.cancelHeartbeat?.();
    this.cancelHeartbeat = this.manager.engine.clock.setTimer(() => {
      this.cancelHeartbeat = undefined;
      this.flush(true);
    }, this.manager.settings.heartbeatMs);
  }

  /** Sends what is pending; `force` sends an event even when there are no new records. */
  private flush(force: boolean): void {
    if (this.ended || this.waitingForDrain || this.cancelRateWait) return;
    const engine = this.manager.engine;
    if (this.stream.status === 'DELETING' || engine.streams.get(this.stream.name) !== this.stream) {
      this.fail(AwsErrorName.RESOURCE_NOT_FOUND, `Stream ${this.stream.name} under account ${engine.accountId} not found.`);
      return;
    }
    for (let sent = 0; sent < EVENTS_PER_TURN; sent++) {
      const mono = engine.clock.monotonic();
      let maxBytes = MAX_BYTES_PER_EVENT;
      if (!this.bucket.unlimited) {
        const available = this.bucket.available(mono);
        if (available <= 0) {
          this.waitForTokens();
          return;
        }
        maxBytes = Math.min(maxBytes, available);
      }
      const batch = engine.read(this.stream, this.shard, this.position, MAX_RECORDS_PER_EVENT, maxBytes);
      const hasRecords = batch.to > batch.from;
      if (!hasRecords && !batch.shardEnd && !force && this.sentFirstEvent) {
        // A heartbeat that fell due during a drain or read-rate wait was dropped: keep them coming.
        if (this.cancelHeartbeat === undefined) this.armHeartbeat();
        return;
      }
      if (this.faults.roll(this.faults.streamErrorRate)) {
        this.fail(this.faults.streamErrorCode, `Injected stream fault (${this.faults.streamErrorCode}).`);
        return;
      }
      this.bucket.takeDebt(batch.bytes, mono);
      this.position = batch.next;
      const ok = this.sink.write(eventMessage('SubscribeToShardEvent', this.eventJson(batch.from, batch.to, batch.millisBehindLatest, batch.shardEnd)));
      this.sentFirstEvent = true;
      force = false;
      if (batch.shardEnd) {
        this.finish();
        return;
      }
      this.armHeartbeat();
      if (!ok) {
        this.waitingForDrain = true;
        this.sink.onDrain(() => {
          this.waitingForDrain = false;
          this.flush(false);
        });
        return;
      }
      if (this.position >= this.shard.log.nextCounter) return;
    }
    // More backlog: continue on the next turn so other connections get served too.
    this.onShardChanged();
  }

  private waitForTokens(): void {
    const wait = Math.max(1, this.bucket.msUntil(1, this.manager.engine.clock.monotonic()));
    this.cancelRateWait = this.manager.engine.clock.setTimer(() => {
      this.cancelRateWait = undefined;
      this.flush(false);
    }, wait);
  }

  private eventJson(from: number, to: number, millisBehindLatest: number, shardEnd: boolean): Buffer {
    const shard = this.shard;
    const enc = this.stream.encryptionType === 'KMS' ? ',"EncryptionType":"KMS"' : '';
    const tail = shardEnd
      ? `],"MillisBehindLatest":${millisBehindLatest},"ChildShards":${JSON.stringify(this.manager.engine.childShards(shard))}}`
      : `],"MillisBehindLatest":${millisBehindLatest},"ContinuationSequenceNumber":"${shard.sequenceNumber(this.position - 1)}"}`;
    return shard.log.recordsJson(from, to, shard.seqPrefix, '{"Records":[', tail, enc);
  }
}

function subscriptionKey(consumer: ConsumerState, shard: ShardState): string {
  return `${consumer.arn}|${shard.shardId}`;
}

/** Active subscriptions, the 5-second rule and takeovers. */
export class SubscriptionManager {
  private readonly active = new Map<string, Subscription>();

  constructor(
    readonly engine: KinesisEngine,
    readonly settings: SubscriptionSettings,
    private readonly logger: Logger,
  ) {}

  get clock(): Clock {
    return this.engine.clock;
  }

  get count(): number {
    return this.active.size;
  }

  list(): Subscription[] {
    return [...this.active.values()];
  }

  /**
   * Checks the 5-second rule (a second call for the same consumer and shard within
   * `cooldownMs` of a successful one is ResourceInUseException; a later one takes over) and starts
   * the subscription. Throws before anything is written, so the router can answer with an error.
   */
  start(request: SubscriptionRequest, sink: SubscriptionSink, faults: SubscriptionFaults): Subscription {
    const { consumer, shard } = request;
    const now = this.engine.clock.now();
    const last = consumer.lastSubscribeMs.get(shard.shardId);
    if (last !== undefined && now - last < this.settings.cooldownMs) {
      throw resourceInUse(
        `Another active subscription exists for consumer ${consumer.arn} and shard ${shard.shardId}; wait ${this.settings.cooldownMs / 1000} seconds between calls.`,
      );
    }
    const key = subscriptionKey(consumer, shard);
    this.active.get(key)?.finish();
    consumer.lastSubscribeMs.set(shard.shardId, now);
    const sub = new Subscription(this, consumer, request.stream, shard, request.startCounter, sink, faults);
    this.active.set(key, sub);
    this.logger.debug({ consumerArn: consumer.arn, shardId: shard.shardId }, 'subscription started');
    sub.start();
    return sub;
  }

  forget(sub: Subscription): void {
    if (this.active.get(sub.key) === sub) this.active.delete(sub.key);
  }

  /** Ends matching subscriptions (all by default); returns how many. */
  end(options: EndSubscriptionsOptions = {}): number {
    let n = 0;
    for (const sub of this.list()) {
      if (options.streamName !== undefined && sub.stream.name !== options.streamName) continue;
      if (options.shardId !== undefined && sub.shard.shardId !== options.shardId) continue;
      if (options.consumerArn !== undefined && sub.consumer.arn !== options.consumerArn) continue;
      n++;
      if (options.abort) sub.abort();
      else if (options.error) sub.fail(options.error, `Subscription ended by the server (${options.error}).`);
      else sub.finish();
    }
    return n;
  }

  endForStream(stream: StreamState): void {
    for (const sub of this.list()) {
      if (sub.stream === stream) sub.fail(AwsErrorName.RESOURCE_NOT_FOUND, `Stream ${stream.name} under account ${this.engine.accountId} not found.`);
    }
  }

  endForConsumer(consumer: ConsumerState): void {
    for (const sub of this.list()) {
      if (sub.consumer === consumer) sub.fail(AwsErrorName.RESOURCE_NOT_FOUND, `Consumer ${consumer.arn} under account ${this.engine.accountId} not found.`);
    }
  }

  closeAll(): void {
    for (const sub of this.list()) sub.finish();
  }
}
