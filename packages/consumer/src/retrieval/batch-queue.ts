import { abortReason } from '@kinesis-kit/core';

interface Sized {
  /** Records the item holds (Kinesis records, before deaggregation). */
  count: number;
  bytes: number;
}

/**
 * The prefetch buffer between a shard's fetcher and its processor: bounded in records and bytes.
 * `push` waits while the queue is at or over either bound (one item is always accepted into an
 * empty queue, so a single large GetRecords answer cannot deadlock it); `take` waits while empty.
 */
export class BatchQueue<T extends Sized> {
  private readonly items: T[] = [];
  private records = 0;
  private bytes = 0;
  private wakeTaker: (() => void) | undefined;
  private wakePusher: (() => void) | undefined;

  constructor(
    readonly maxRecords: number,
    readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.items.length;
  }

  get bufferedRecords(): number {
    return this.records;
  }

  get bufferedBytes(): number {
    return this.bytes;
  }

  /** True when a push would have to wait. */
  get full(): boolean {
    return this.items.length > 0 && (this.records >= this.maxRecords || this.bytes >= this.maxBytes);
  }

  async push(item: T, signal: AbortSignal): Promise<void> {
    while (this.full) await this.wait('pusher', signal);
    this.items.push(item);
    this.records += item.count;
    this.bytes += item.bytes;
    this.wake('taker');
  }

  async take(signal: AbortSignal): Promise<T> {
    while (this.items.length === 0) await this.wait('taker', signal);
    const item = this.items.shift()!;
    this.records -= item.count;
    this.bytes -= item.bytes;
    this.wake('pusher');
    return item;
  }

  /** Drops everything buffered (lease lost, restart from a checkpoint). */
  clear(): void {
    this.items.length = 0;
    this.records = 0;
    this.bytes = 0;
    this.wake('pusher');
  }

  private wait(who: 'taker' | 'pusher', signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(abortReason(signal));
        return;
      }
      const onAbort = (): void => {
        if (who === 'taker') this.wakeTaker = undefined;
        else this.wakePusher = undefined;
        reject(abortReason(signal));
      };
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      if (who === 'taker') this.wakeTaker = wake;
      else this.wakePusher = wake;
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private wake(who: 'taker' | 'pusher'): void {
    const fn = who === 'taker' ? this.wakeTaker : this.wakePusher;
    if (who === 'taker') this.wakeTaker = undefined;
    else this.wakePusher = undefined;
    fn?.();
  }
}
