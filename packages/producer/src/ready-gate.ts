import { abortReason } from '@kinesis-kit/core';

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * What `producer.ready()` waits on: opens once the shard map is known; until then, a failure that
 * retrying cannot fix rejects every waiter (and later calls, until the gate opens), and closing
 * rejects them for good. Each wait can be abandoned with its own AbortSignal.
 */
export class ReadyGate {
  private isOpen = false;
  private failure: Error | undefined;
  private closedWith: Error | undefined;
  private readonly waiters = new Set<Waiter>();

  wait(signal?: AbortSignal): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    const refused = this.closedWith ?? this.failure ?? (signal?.aborted ? abortReason(signal) : undefined);
    if (refused) return Promise.reject(refused);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => waiter.reject(abortReason(signal!));
      const done = (): void => {
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter: Waiter = {
        resolve: () => {
          done();
          resolve();
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The shard map is known: every wait resolves, now and later (unless closed first). */
  open(): void {
    if (this.closedWith) return;
    this.isOpen = true;
    this.failure = undefined;
    for (const w of [...this.waiters]) w.resolve();
  }

  /** A failure retrying will not fix, while the gate is not open. */
  fail(error: Error): void {
    if (this.isOpen || this.closedWith) return;
    this.failure = error;
    for (const w of [...this.waiters]) w.reject(error);
  }

  /** The failure given to fail() may no longer hold (a later attempt failed otherwise): new waits wait again. */
  clearFailure(): void {
    this.failure = undefined;
  }

  /** The producer closed: waits not yet resolved reject with `error`, and so do later ones unless already open. */
  close(error: Error): void {
    if (this.isOpen) return;
    this.closedWith = error;
    for (const w of [...this.waiters]) w.reject(error);
  }
}
