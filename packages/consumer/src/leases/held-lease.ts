import { LeaseLostError } from '../errors.js';
import { copyLease, type Lease } from './lease.js';
import type { LeaseAcquisition, LeaseLostReason } from './events.js';

export type HeldLeaseState = 'held' | 'lost' | 'released';

/**
 * The in-memory record of one lease this worker holds: the single owner of its counter. The renewer
 * and the checkpointer both write through `exclusive()`, so their conditional writes never race
 * each other and the counter they condition on is always the last one written. One acquisition =
 * one HeldLease object (the KCL's concurrency token): if the lease is lost and taken again, the new
 * acquisition is a new object and old checkpointers keep failing with LeaseLostError.
 */
export class HeldLease {
  readonly leaseKey: string;
  readonly shardId: string;
  readonly streamIdentifier: string | undefined;
  readonly acquisition: LeaseAcquisition;
  /** Monotonic time of the acquisition. */
  readonly acquiredAt: number;
  /**
   * Monotonic time at which the last successful counter-bumping write was *sent* (conservative:
   * the lease is considered alive from then, not from when the answer came back).
   */
  lastRenewedAt: number;
  private current: Lease;
  private stateValue: HeldLeaseState = 'held';
  private reasonValue: LeaseLostReason | undefined;
  private readonly controller = new AbortController();
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;

  constructor(lease: Lease, acquisition: LeaseAcquisition, sentAt: number) {
    this.leaseKey = lease.leaseKey;
    this.shardId = lease.shardId;
    this.streamIdentifier = lease.streamIdentifier;
    this.acquisition = acquisition;
    this.acquiredAt = sentAt;
    this.lastRenewedAt = sentAt;
    this.current = copyLease(lease);
  }

  get state(): HeldLeaseState {
    return this.stateValue;
  }

  get isHeld(): boolean {
    return this.stateValue === 'held';
  }

  /** Why it was lost (when state is 'lost'). */
  get lostReason(): LeaseLostReason | undefined {
    return this.reasonValue;
  }

  /** Aborts when the lease is lost or released: hand it to work done on behalf of this shard. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get leaseCounter(): bigint {
    return this.current.leaseCounter;
  }

  /** A copy of the lease as we last wrote or read it (checkpoint, pending checkpoint, parents, ...). */
  get lease(): Lease {
    return copyLease(this.current);
  }

  /**
   * True while a write on this lease is queued or in flight (through exclusive()). A renewal pass
   * does not wait for a busy lease: every write is abandoned by the time the lease would expire, so
   * the queue drains by then at the latest.
   */
  get isBusy(): boolean {
    return this.queued > 0;
  }

  /** Runs `fn` after every earlier write on this lease has finished (FIFO, failures do not block the queue). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.queued += 1;
    const task = async (): Promise<T> => {
      try {
        return await fn();
      } finally {
        this.queued -= 1;
      }
    };
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Records a successful write of counter `counter`, sent at `sentAt`. */
  recordWrite(counter: bigint, sentAt: number, changes: Partial<Lease> = {}): void {
    this.current = { ...this.current, ...changes, leaseCounter: counter };
    if (sentAt > this.lastRenewedAt) this.lastRenewedAt = sentAt;
  }

  /** Replaces the pending-checkpoint fields (commit clears them, prepare sets them). */
  setPending(pending: Lease['pendingCheckpoint'], state: Uint8Array | undefined): void {
    const next: Lease = { ...this.current };
    if (pending) next.pendingCheckpoint = { ...pending };
    else delete next.pendingCheckpoint;
    if (state) next.pendingCheckpointState = state.slice();
    else delete next.pendingCheckpointState;
    this.current = next;
  }

  /** Moves to lost/released once; returns false if it had already left 'held'. */
  end(state: 'lost' | 'released', reason?: LeaseLostReason): boolean {
    if (this.stateValue !== 'held') return false;
    this.stateValue = state;
    this.reasonValue = reason;
    this.controller.abort(
      new LeaseLostError(this.leaseKey, this.shardId, `lease ${this.leaseKey} ${state}${reason ? ` (${reason})` : ''}`),
    );
    return true;
  }
}
