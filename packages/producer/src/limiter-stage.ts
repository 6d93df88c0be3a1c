import type { Clock } from '@kinesis-kit/core';
import type { Container } from './pending.js';
import { ShardRateLimiter, type ShardRateLimitOptions } from './rate-limiter.js';

interface ShardQueue {
  shardId: string;
  limiter: ShardRateLimiter;
  items: Container[];
  head: number;
  /** Strict ordering: a container of this shard is past the limiter and not yet settled. */
  busy: boolean;
  /** The shard is not open in the shard map: the queue goes as soon as it is idle (empty, not busy). */
  closed: boolean;
}

/**
 * Per-shard queues in front of the per-shard token buckets (the KPL's Limiter). Containers leave
 * in order while both buckets have tokens; a blocked queue is drained again every 25 ms. Containers
 * past their expiration are handed back instead. In strict-ordering mode a shard releases its next
 * container only when the previous one has settled (`release`). Queues of shards that are no longer
 * open are dropped once idle (retireClosed), so a stream resharded again and again keeps about one
 * per open shard (a closed shard's token buckets are of no use: it takes no more writes).
 */
export class LimiterStage {
  private readonly queues = new Map<string, ShardQueue>();
  private cancelTimer: (() => void) | undefined;
  private queued = 0;

  constructor(
    private readonly options: ShardRateLimitOptions & { drainMs: number; strict: boolean },
    private readonly clock: Clock,
    private readonly pass: (container: Container) => void,
    private readonly expired: (container: Container, shardId: string) => void,
    /** Whether a shard is open in the current shard map. */
    private readonly isOpen: (shardId: string) => boolean,
  ) {}

  /** Shards that have a queue. */
  get size(): number {
    return this.queues.size;
  }

  /** Containers waiting for tokens (or, in strict mode, for their shard). */
  get queuedContainers(): number {
    return this.queued;
  }

  enqueue(shardId: string, container: Container): void {
    const q = this.queue(shardId);
    q.items.push(container);
    this.queued++;
    this.drainShard(q, this.clock.monotonic());
  }

  /** Strict mode: puts retried containers back at the head of the shard's queue, in order. */
  unshift(shardId: string, containers: Container[]): void {
    const q = this.queue(shardId);
    if (q.head > 0) {
      q.items = q.items.slice(q.head);
      q.head = 0;
    }
    q.items.unshift(...containers);
    this.queued += containers.length;
  }

  /** Removes and returns the containers waiting in a shard's queue, in order (its shard closed). */
  takeQueued(shardId: string): Container[] {
    const q = this.queues.get(shardId);
    if (!q) return [];
    const taken = q.items.slice(q.head);
    q.items = [];
    q.head = 0;
    this.queued -= taken.length;
    if (q.closed) this.forgetIfIdle(q);
    return taken;
  }

  /** Strict mode: the shard's container has settled (or gone back to be retried). */
  release(shardId: string): void {
    const q = this.queues.get(shardId);
    if (!q) return;
    q.busy = false;
    this.drainShard(q, this.clock.monotonic());
  }

  /** Whether a shard has containers queued or (strict mode) one past the limiter and not yet settled. */
  holds(shardId: string): boolean {
    const q = this.queues.get(shardId);
    return q !== undefined && (q.busy || q.head < q.items.length);
  }

  /** Every shard that has a queue. */
  shardIds(): IterableIterator<string> {
    return this.queues.keys();
  }

  /**
   * The shard map changed: drops the queues of shards no longer open that are idle. The others
   * drain (or, strict mode, settle) as before and are dropped once idle.
   */
  retireClosed(): void {
    for (const q of this.queues.values()) {
      q.closed = !this.isOpen(q.shardId);
      if (q.closed) this.forgetIfIdle(q);
    }
  }

  /** Releases what the buckets allow from one shard's queue now. */
  drain(shardId: string): void {
    const q = this.queues.get(shardId);
    if (q) this.drainShard(q, this.clock.monotonic());
  }

  close(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.queues.clear();
    this.queued = 0;
  }

  private queue(shardId: string): ShardQueue {
    let q = this.queues.get(shardId);
    if (!q) {
      q = { shardId, limiter: new ShardRateLimiter(this.options, this.clock.monotonic()), items: [], head: 0, busy: false, closed: !this.isOpen(shardId) };
      this.queues.set(shardId, q);
    }
    return q;
  }

  /** Releases what the buckets allow; true when the queue is still blocked on tokens. */
  private drainShard(q: ShardQueue, now: number): boolean {
    while (q.head < q.items.length) {
      const c = q.items[q.head]!;
      if (c.expiration <= now) {
        this.take(q);
        this.expired(c, q.shardId);
        continue;
      }
      if (this.options.strict && q.busy) return false;
      if (!q.limiter.tryTake(c.size, now)) {
        this.armTimer();
        return true;
      }
      this.take(q);
      if (this.options.strict) q.busy = true;
      this.pass(c);
    }
    if (q.closed) this.forgetIfIdle(q);
    return false;
  }

  private forgetIfIdle(q: ShardQueue): void {
    if (this.queues.get(q.shardId) !== q || this.holds(q.shardId)) return;
    this.queues.delete(q.shardId);
  }

  private take(q: ShardQueue): void {
    q.items[q.head] = undefined as unknown as Container;
    q.head++;
    this.queued--;
    if (q.head === q.items.length) {
      q.items = [];
      q.head = 0;
    } else if (q.head > 1024 && q.head * 2 > q.items.length) {
      q.items = q.items.slice(q.head);
      q.head = 0;
    }
  }

  private armTimer(): void {
    if (this.cancelTimer) return;
    this.cancelTimer = this.clock.setTimer(() => {
      this.cancelTimer = undefined;
      const now = this.clock.monotonic();
      let blocked = false;
      for (const q of this.queues.values()) if (this.drainShard(q, now)) blocked = true;
      if (blocked) this.armTimer();
    }, this.options.drainMs);
  }
}
