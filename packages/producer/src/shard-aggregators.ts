import { RecordAggregator } from '@kinesis-kit/aggregation';
import type { Clock } from '@kinesis-kit/core';
import { containerFromAggregated, type Container, type PendingRecord } from './pending.js';

interface Slot {
  aggregator: RecordAggregator<PendingRecord>;
  cancelTimer: (() => void) | undefined;
  timerDue: number;
  /** The shard is not open in the shard map: the slot goes as soon as it is empty. */
  closed: boolean;
}

/**
 * One RecordAggregator per predicted shard, so a container only holds records routed to one shard
 * (its first record's hash key routes the whole container). A container is emitted when full
 * (aggregationMaxCount / aggregationMaxSize) or at the earliest deadline of its records.
 * Aggregators of shards that are no longer open are dropped once empty (retireClosed), so a stream
 * resharded again and again keeps about one per open shard.
 */
export class ShardAggregators {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly limits: { maxCount: number; maxSize: number },
    private readonly clock: Clock,
    private readonly emit: (container: Container) => void,
    /** Whether a shard is open in the current shard map. */
    private readonly isOpen: (shardId: string) => boolean,
  ) {}

  /** Shards that have an aggregator. */
  get size(): number {
    return this.slots.size;
  }

  /** User records buffered in all aggregators. */
  get bufferedRecords(): number {
    let n = 0;
    for (const slot of this.slots.values()) n += slot.aggregator.count;
    return n;
  }

  add(shardId: string, record: PendingRecord): void {
    let slot = this.slots.get(shardId);
    if (!slot) {
      slot = { aggregator: new RecordAggregator<PendingRecord>(this.limits), cancelTimer: undefined, timerDue: Infinity, closed: !this.isOpen(shardId) };
      this.slots.set(shardId, slot);
    }
    // The aggregator keeps the record itself and hands it back in the container's userRecords.
    const done = slot.aggregator.add(record);
    for (const agg of done) this.emit(containerFromAggregated(agg, shardId));
    if (slot.aggregator.count === 0) {
      this.disarm(slot);
      if (slot.closed) this.forget(shardId, slot);
      return;
    }
    if (done.length > 0) {
      // A container was emitted: what remains is the record just added, alone.
      this.disarm(slot);
      this.arm(shardId, slot, record.deadline);
    } else if (record.deadline < slot.timerDue) {
      this.disarm(slot);
      this.arm(shardId, slot, record.deadline);
    }
  }

  /** Whether records are buffered for a shard. */
  holds(shardId: string): boolean {
    return (this.slots.get(shardId)?.aggregator.count ?? 0) > 0;
  }

  /** Every shard that has an aggregator. */
  shardIds(): IterableIterator<string> {
    return this.slots.keys();
  }

  /** Emits every non-empty container now. */
  flushAll(): void {
    for (const [shardId, slot] of this.slots) this.flushSlot(shardId, slot);
  }

  /** Removes and returns the records buffered for a shard, in order, without emitting them (its shard closed). */
  takeRecords(shardId: string): PendingRecord[] {
    const slot = this.slots.get(shardId);
    if (!slot) return [];
    this.disarm(slot);
    this.slots.delete(shardId);
    return slot.aggregator.takePending();
  }

  /**
   * The shard map changed: drops the aggregators of shards no longer open that are empty. Those
   * still buffering records keep them (they go out as before) and are dropped once emptied.
   */
  retireClosed(): void {
    for (const [shardId, slot] of this.slots) {
      slot.closed = !this.isOpen(shardId);
      if (slot.closed && slot.aggregator.count === 0) this.forget(shardId, slot);
    }
  }

  close(): void {
    for (const slot of this.slots.values()) this.disarm(slot);
    this.slots.clear();
  }

  private flushSlot(shardId: string, slot: Slot): void {
    this.disarm(slot);
    const agg = slot.aggregator.flush();
    if (agg) this.emit(containerFromAggregated(agg, shardId));
    // Emitting may have buffered records here again (a re-routed record): then the slot stays.
    if (slot.closed && slot.aggregator.count === 0) this.forget(shardId, slot);
  }

  private forget(shardId: string, slot: Slot): void {
    if (this.slots.get(shardId) !== slot) return;
    this.disarm(slot);
    this.slots.delete(shardId);
  }

  private arm(shardId: string, slot: Slot, due: number): void {
    slot.timerDue = due;
    slot.cancelTimer = this.clock.setTimer(() => {
      slot.cancelTimer = undefined;
      slot.timerDue = Infinity;
      this.flushSlot(shardId, slot);
    }, due - this.clock.monotonic());
  }

  private disarm(slot: Slot): void {
    slot.cancelTimer?.();
    slot.cancelTimer = undefined;
    slot.timerDue = Infinity;
  }
}
