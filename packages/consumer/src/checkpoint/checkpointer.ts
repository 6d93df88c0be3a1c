import { compareExtendedSequenceNumbers, SentinelCheckpoint, type ExtendedSequenceNumber } from '@kinesis-kit/aggregation';
import type { Clock } from '@kinesis-kit/core';
import { InvalidCheckpointError, LeaseLostError } from '../errors.js';
import type { HeldLease } from '../leases/held-lease.js';
import type { CheckpointUpdate } from '../leases/lease-table.js';
import type { MetricsScope } from '../leases/metrics.js';
import { parseCheckpointArgs, parsePrepareCheckpointArgs, type CheckpointPosition } from './checkpoint-args.js';

/** The checkpointer handed to a ShardRecordProcessor (KCL RecordProcessorCheckpointer). */
export interface Checkpointer {
  /** Checkpoints the largest position delivered so far. */
  checkpoint(): Promise<void>;
  checkpoint(sequenceNumber: string, subSequenceNumber?: number): Promise<void>;
  /** Uses the record's sequenceNumber and subSequenceNumber (right for KPL-aggregated records). */
  checkpoint(record: CheckpointPosition): Promise<void>;
  /** Two-phase checkpoint: records a pending checkpoint (and optional state); commit with the result's checkpoint(). */
  prepareCheckpoint(applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  prepareCheckpoint(sequenceNumber: string, subSequenceNumber?: number, applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  prepareCheckpoint(record: CheckpointPosition, applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
}

export interface PreparedCheckpointer {
  readonly pendingCheckpoint: ExtendedSequenceNumber;
  /** Commits the prepared position (rejects if a later checkpoint was committed meanwhile). */
  checkpoint(): Promise<void>;
}

/** A prepared checkpoint found in the lease at start: handed to `initialize` so the application can decide. */
export interface PendingCheckpoint {
  sequenceNumber: string;
  subSequenceNumber: number;
  applicationState?: Uint8Array;
}

/** The part of the lease coordinator the checkpointer writes through (LeaseRenewer implements it). */
export interface CheckpointWriter {
  writeCheckpoint(lease: HeldLease, update: CheckpointUpdate, signal?: AbortSignal): Promise<void>;
}

export interface ShardCheckpointerOptions {
  clock: Clock;
  metrics?: MetricsScope;
  /** `Operation` dimension of UpdateLease metrics (KCL: ProcessTask, or ShutdownTask at shard end). */
  metricsOperation?: string;
}

const SHARD_END: ExtendedSequenceNumber = { sequenceNumber: SentinelCheckpoint.SHARD_END, subSequenceNumber: 0 };

/**
 * The checkpointer of one shard for one lease acquisition. Calls are queued and run one at a time
 * in call order; each write is a counter-fenced update through the lease's HeldLease, so it never
 * races the renewer. Rules (KCL): never backwards, never beyond what was delivered
 * (setLargestPermitted), a repeat is a no-op, SHARD_END only once the shard consumer reached it.
 */
export class ShardCheckpointer implements Checkpointer {
  private last: ExtendedSequenceNumber | undefined;
  private largestPermitted: ExtendedSequenceNumber | undefined;
  /** At shard end: the last delivered position, which a checkpoint turns into SHARD_END (as the KCL does). */
  private shardEndFrom: ExtendedSequenceNumber | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly writer: CheckpointWriter,
    readonly heldLease: HeldLease,
    private readonly options: ShardCheckpointerOptions,
  ) {
    const lease = heldLease.lease;
    this.last = lease.checkpoint && { ...lease.checkpoint };
    this.largestPermitted = this.last;
  }

  get leaseKey(): string {
    return this.heldLease.leaseKey;
  }

  get shardId(): string {
    return this.heldLease.shardId;
  }

  /** The checkpoint last written (or read from the lease at acquisition). */
  get lastCheckpoint(): ExtendedSequenceNumber | undefined {
    return this.last && { ...this.last };
  }

  get largestPermittedCheckpoint(): ExtendedSequenceNumber | undefined {
    return this.largestPermitted && { ...this.largestPermitted };
  }

  /** The prepared (two-phase) checkpoint recorded in the lease, with its application state. */
  get pendingCheckpoint(): PendingCheckpoint | undefined {
    const lease = this.heldLease.lease;
    if (!lease.pendingCheckpoint) return undefined;
    return {
      sequenceNumber: lease.pendingCheckpoint.sequenceNumber,
      subSequenceNumber: lease.pendingCheckpoint.subSequenceNumber ?? 0,
      ...(lease.pendingCheckpointState ? { applicationState: lease.pendingCheckpointState } : {}),
    };
  }

  /** True once SHARD_END is the checkpoint (the shard's children may start). */
  get isShardEndCheckpointed(): boolean {
    return this.last?.sequenceNumber === SentinelCheckpoint.SHARD_END;
  }

  /**
   * Called by the shard consumer before each processRecords with the largest position delivered
   * (KCL largestPermittedCheckpointValue). Never moves backwards.
   */
  setLargestPermitted(position: ExtendedSequenceNumber): void {
    const p = { sequenceNumber: position.sequenceNumber, subSequenceNumber: position.subSequenceNumber ?? 0 };
    if (!this.largestPermitted || compareExtendedSequenceNumbers(p, this.largestPermitted) > 0) this.largestPermitted = p;
  }

  /**
   * Called by the shard consumer when a delivery was abandoned (shutdown or lease loss during a
   * retry): the limit goes back to the last record that was processed (or deliberately skipped),
   * but never below the checkpoint already written. The KCL has no such step because it moves on
   * after a failed processRecords; we retry, so checkpoint() in shutdownRequested must not cover
   * the records still failing.
   */
  limitLargestPermitted(processedThrough: ExtendedSequenceNumber | undefined): void {
    let limit: ExtendedSequenceNumber | undefined = processedThrough && { sequenceNumber: processedThrough.sequenceNumber, subSequenceNumber: processedThrough.subSequenceNumber ?? 0 };
    if (!limit || (this.last && compareExtendedSequenceNumbers(limit, this.last) < 0)) limit = this.last && { ...this.last };
    if (!limit || !this.largestPermitted || compareExtendedSequenceNumbers(limit, this.largestPermitted) < 0) this.largestPermitted = limit;
  }

  /**
   * Called by the shard consumer when the shard has ended and every record was delivered: from now
   * on checkpoint() (or a checkpoint at `lastDelivered`) writes SHARD_END.
   */
  markShardEnd(lastDelivered?: ExtendedSequenceNumber): void {
    const from = lastDelivered ?? this.largestPermitted;
    this.shardEndFrom = from && { sequenceNumber: from.sequenceNumber, subSequenceNumber: from.subSequenceNumber ?? 0 };
    this.largestPermitted = { ...SHARD_END };
  }

  checkpoint(): Promise<void>;
  checkpoint(sequenceNumber: string, subSequenceNumber?: number): Promise<void>;
  checkpoint(record: CheckpointPosition): Promise<void>;
  async checkpoint(...args: unknown[]): Promise<void> {
    // Parsed, resolved and range-checked when called (as the KCL's synchronous checkpointer): an
    // argument-less call means what was delivered *now*, not when an earlier write has finished
    // and the next batch may already be in processRecords.
    const { position } = parseCheckpointArgs(args, this.where());
    this.assertHeld();
    const target = this.resolveTarget(position);
    if (!target) return; // nothing delivered and nothing checkpointed yet
    this.checkLimit(target);
    return this.enqueue(() => this.commit(target, false));
  }

  prepareCheckpoint(applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  prepareCheckpoint(sequenceNumber: string, subSequenceNumber?: number, applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  prepareCheckpoint(record: CheckpointPosition, applicationState?: Uint8Array): Promise<PreparedCheckpointer>;
  async prepareCheckpoint(...args: unknown[]): Promise<PreparedCheckpointer> {
    const { position, applicationState } = parsePrepareCheckpointArgs(args, this.where());
    this.assertHeld();
    const target = this.resolveTarget(position);
    this.checkLimit(target);
    return this.enqueue(async () => {
      this.checkBackwards(target);
      await this.write({
        kind: 'prepare',
        pendingCheckpoint: target,
        ...(applicationState ? { pendingCheckpointState: applicationState } : {}),
      });
      return new Prepared(this, target);
    });
  }

  /** Commit path shared by checkpoint() and PreparedCheckpointer.checkpoint(). */
  async commitPrepared(position: ExtendedSequenceNumber): Promise<void> {
    this.assertHeld();
    const target = this.resolveTarget(position);
    this.checkLimit(target, true);
    return this.enqueue(() => this.commit(target, true));
  }

  /** Runs in queue order: the target was resolved and checked against the limit when called. */
  private async commit(target: ExtendedSequenceNumber, prepared: boolean): Promise<void> {
    this.checkBackwards(target, prepared);
    const hasPending = this.heldLease.lease.pendingCheckpoint !== undefined;
    if (this.last && compareExtendedSequenceNumbers(target, this.last) === 0 && target.sequenceNumber === this.last.sequenceNumber && !hasPending) {
      return; // repeat: no write
    }
    await this.write({ kind: 'commit', checkpoint: target });
    this.last = { ...target };
  }

  private resolveTarget(position: ExtendedSequenceNumber | undefined): ExtendedSequenceNumber | undefined {
    const target = position ?? this.largestPermitted;
    if (!target) return undefined;
    if (
      this.shardEndFrom &&
      target.sequenceNumber !== SentinelCheckpoint.SHARD_END &&
      compareExtendedSequenceNumbers(target, this.shardEndFrom) === 0
    ) {
      return { ...SHARD_END };
    }
    return { sequenceNumber: target.sequenceNumber, subSequenceNumber: target.subSequenceNumber ?? 0 };
  }

  /** Never before the checkpoint written last (checked when the write's turn comes). */
  private checkBackwards(target: ExtendedSequenceNumber, prepared = false): void {
    this.assertHeld();
    if (this.last && compareExtendedSequenceNumbers(target, this.last) < 0) {
      throw new InvalidCheckpointError(
        'backwards',
        `${prepared ? 'prepared ' : ''}checkpoint ${fmt(target)} is before the current checkpoint ${fmt(this.last)}`,
        this.context(target),
      );
    }
  }

  /** Never beyond what was delivered (and processed, after a failed delivery: see limitLargestPermitted). */
  private checkLimit(target: ExtendedSequenceNumber | undefined, prepared = false): asserts target is ExtendedSequenceNumber {
    this.assertHeld();
    if (!target) {
      throw new InvalidCheckpointError('beyond-delivered', 'nothing has been delivered to checkpoint', this.where());
    }
    const context = this.context(target);
    const limit = this.largestPermitted;
    if (!limit || compareExtendedSequenceNumbers(target, limit) > 0) {
      if (target.sequenceNumber === SentinelCheckpoint.SHARD_END) {
        throw new InvalidCheckpointError('shard-end-not-reached', 'SHARD_END can only be checkpointed once the shard has ended', context);
      }
      throw new InvalidCheckpointError(
        'beyond-delivered',
        `${prepared ? 'prepared ' : ''}checkpoint ${fmt(target)} is beyond the largest delivered position ${limit ? fmt(limit) : '(none)'}`,
        context,
      );
    }
  }

  private context(target: ExtendedSequenceNumber) {
    return { ...this.where(), sequenceNumber: target.sequenceNumber, subSequenceNumber: target.subSequenceNumber ?? 0 };
  }

  private async write(update: CheckpointUpdate): Promise<void> {
    const started = this.options.clock.monotonic();
    let ok = false;
    try {
      await this.writer.writeCheckpoint(this.heldLease, update);
      ok = true;
    } finally {
      this.options.metrics?.call('UpdateLease', ok, started, {
        Operation: this.options.metricsOperation ?? 'ProcessTask',
        ShardId: this.shardId,
      });
    }
  }

  private assertHeld(): void {
    if (!this.heldLease.isHeld) throw new LeaseLostError(this.leaseKey, this.shardId);
  }

  private where(): { leaseKey: string; shardId: string } {
    return { leaseKey: this.leaseKey, shardId: this.shardId };
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

class Prepared implements PreparedCheckpointer {
  constructor(
    private readonly owner: ShardCheckpointer,
    readonly pendingCheckpoint: ExtendedSequenceNumber,
  ) {}

  checkpoint(): Promise<void> {
    return this.owner.commitPrepared(this.pendingCheckpoint);
  }
}

function fmt(p: ExtendedSequenceNumber): string {
  return p.subSequenceNumber ? `${p.sequenceNumber}/${p.subSequenceNumber}` : p.sequenceNumber;
}
