import { errorFields, linkSignals, type Logger } from '@kinesis-kit/core';
import { BatchQueue } from './batch-queue.js';
import type { FetchedBatch, RecordsFetcher } from './records-fetcher.js';

/**
 * The part polling and fan-out share: a loop that fills a bounded queue, `next()` taking from it,
 * and `close()` stopping the loop and dropping what was buffered. Subclasses call `start()` at the
 * end of their constructor (once their own fields exist) and implement `run()`.
 */
export abstract class QueuedFetcher implements RecordsFetcher {
  protected readonly queue: BatchQueue<FetchedBatch>;
  protected readonly controller = new AbortController();
  private loop: Promise<void> = Promise.resolve();

  constructor(
    limits: { maxPrefetchRecords: number; maxPrefetchBytes: number },
    private readonly loopLogger: Logger,
  ) {
    this.queue = new BatchQueue(limits.maxPrefetchRecords, limits.maxPrefetchBytes);
  }

  get buffered(): { records: number; bytes: number } {
    return { records: this.queue.bufferedRecords, bytes: this.queue.bufferedBytes };
  }

  async next(signal: AbortSignal): Promise<FetchedBatch> {
    const linked = linkSignals(signal, this.controller.signal);
    try {
      return await this.queue.take(linked.signal);
    } finally {
      linked.dispose();
    }
  }

  async close(): Promise<void> {
    this.controller.abort();
    this.queue.clear();
    await this.loop;
  }

  protected start(): void {
    this.loop = this.run().catch((err: unknown) => {
      if (this.controller.signal.aborted) return;
      this.loopLogger.error(errorFields(err), 'retrieval loop ended unexpectedly');
      // next() rejects with the error: the shard consumer ends and is restarted, instead of waiting forever.
      this.controller.abort(err instanceof Error ? err : new Error(String(err)));
    });
  }

  /** Fills the queue until the shard ends or `controller` aborts. */
  protected abstract run(): Promise<void>;
}
