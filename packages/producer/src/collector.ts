import type { Clock } from '@kinesis-kit/core';
import type { Container } from './pending.js';

export interface CollectorOptions {
  /** collectionMaxCount: entries per PutRecords. */
  maxCount: number;
  /** collectionMaxSize: partition keys + data per PutRecords. */
  maxSize: number;
  /** Extra buffering so requests fill up: min(50 ms, 0.2 x recordMaxBufferedTime). */
  lingerMs: number;
}

/**
 * Gathers Kinesis records into PutRecords batches: a batch goes out when the next entry would pass
 * collectionMaxSize, at collectionMaxCount, or at the earliest (extended) deadline of its entries.
 * An entry bigger than collectionMaxSize goes alone.
 */
export class Collector {
  private entries: Container[] = [];
  private size = 0;
  private cancelTimer: (() => void) | undefined;
  private timerDue = Infinity;

  constructor(
    private readonly options: CollectorOptions,
    private readonly clock: Clock,
    private readonly send: (batch: Container[]) => void,
  ) {}

  get bufferedContainers(): number {
    return this.entries.length;
  }

  add(container: Container): void {
    if (this.entries.length > 0 && this.size + container.size > this.options.maxSize) this.flush();
    this.entries.push(container);
    this.size += container.size;
    if (this.entries.length >= this.options.maxCount || this.size >= this.options.maxSize) {
      this.flush();
      return;
    }
    const due = Math.max(container.deadline, this.clock.monotonic() + this.options.lingerMs);
    if (due < this.timerDue) {
      this.disarm();
      this.timerDue = due;
      this.cancelTimer = this.clock.setTimer(() => {
        this.cancelTimer = undefined;
        this.timerDue = Infinity;
        this.flush();
      }, due - this.clock.monotonic());
    }
  }

  flush(): void {
    this.disarm();
    if (this.entries.length === 0) return;
    const batch = this.entries;
    this.entries = [];
    this.size = 0;
    this.send(batch);
  }

  close(): void {
    this.disarm();
    this.entries = [];
    this.size = 0;
  }

  private disarm(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerDue = Infinity;
  }
}
