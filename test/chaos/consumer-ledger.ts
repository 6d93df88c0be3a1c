/**
 * Bookkeeping for the consumer chaos test: the batch lines of every worker process, checked after
 * the run for loss, per-key order, duplicates (and their cause) and overlapping lease tenures.
 */

/** One worker process (a workerId can have several incarnations after restarts). */
export interface WorkerInstance {
  /** `${workerId}/${incarnation}` */
  label: string;
  workerId: string;
  /** Set when the process was killed with SIGKILL (monotonic ms of the kill). */
  killedAt?: number;
  /** Set when the process was asked to stop gracefully. */
  stopRequestedAt?: number;
}

export interface Batch {
  t: number;
  instance: string;
  shardId: string;
  items: string[];
}

export interface LeaseEvent {
  t: number;
  instance: string;
  shardId: string;
  kind: 'acquired' | 'lost' | 'processingError';
  /** leaseLost reason, or the processing error's name */
  reason?: string;
}

export interface OverlapFinding {
  shardId: string;
  first: string;
  second: string;
  /** When the later tenure delivered its first batch. */
  secondStart: number;
  overlapMs: number;
}

export type DuplicateCause =
  | 'after kill -9 (redelivery from the last checkpoint)'
  | 'after a lost lease (from the last checkpoint)'
  | 'old holder before its next renewal (lease taken)'
  | 'after a graceful stop'
  | 'same worker, batch retried after a failed checkpoint'
  | 'same worker again'
  | 'unexplained';

export interface LedgerResult {
  deliveries: number;
  unique: number;
  duplicates: number;
  duplicateCauses: Partial<Record<DuplicateCause, number>>;
  /** A few duplicates per cause: item, shard, who delivered it first and again, and when (ms relative to the first delivery). */
  duplicateExamples: string[];
  orderViolations: string[];
  /** `${shardId} ${item}` for every delivery */
  deliveredOn: Set<string>;
  maxOverlapMs: number;
  overlaps: OverlapFinding[];
  tenures: number;
}

/** Monotonic milliseconds, comparable with the workers' (process.hrtime is CLOCK_MONOTONIC on Linux). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}

/** The seeded PRNG shared with the fault injection (mulberry32). */
export { seededRandom } from '@kinesis-kit/core';

export class ConsumerLedger {
  readonly batches: Batch[] = [];
  readonly leaseEvents: LeaseEvent[] = [];
  readonly dynamoErrors = new Map<string, number>();
  readonly startFailures: string[] = [];
  readonly instances = new Map<string, WorkerInstance>();
  constructor(private readonly failoverMillis: number) {}

  /** Unique items seen so far (for the bounded wait while the run is going on). */
  private readonly seen = new Set<string>();

  get uniqueSoFar(): number {
    return this.seen.size;
  }

  has(item: string): boolean {
    return this.seen.has(item);
  }

  /** Parses one line printed by consumer-worker.ts. */
  line(instance: string, line: string): void {
    const parts = line.split(' ');
    const tag = parts[0];
    const t = Number(parts[1]);
    if (tag === 'B') {
      const items = parts.slice(4).filter((s) => s.length > 0);
      this.batches.push({ t, instance, shardId: parts[3]!, items });
      for (const item of items) this.seen.add(item);
    } else if (tag === 'A') {
      this.leaseEvents.push({ t, instance, shardId: parts[2]!, kind: 'acquired' });
    } else if (tag === 'L') {
      this.leaseEvents.push({ t, instance, shardId: parts[2]!, kind: 'lost', reason: parts[3] });
    } else if (tag === 'P') {
      this.leaseEvents.push({ t, instance, shardId: parts[2]!, kind: 'processingError', reason: parts[3] });
    } else if (tag === 'E') {
      const key = `${parts[2]}:${parts[3]}`;
      this.dynamoErrors.set(key, (this.dynamoErrors.get(key) ?? 0) + 1);
    } else if (tag === 'SF') {
      this.startFailures.push(`${instance}: ${parts.slice(2).join(' ')}`);
    }
  }

  /**
   * Replays the batches in timestamp order. Per key, first deliveries must come in counter (= put)
   * order. A repeated item is a duplicate, attributed to what happened to the worker that delivered
   * it first. Overlap: per shard, the batches of a worker between two of its leaseAcquired events on
   * that shard form one tenure; two tenures of different workers overlap while both deliver.
   */
  analyse(): LedgerResult {
    const batches = [...this.batches].sort((a, b) => a.t - b.t);
    const firstBy = new Map<string, { instance: string; shardId: string; t: number }>();
    const highest = new Map<string, number>();
    const deliveredOn = new Set<string>();
    const orderViolations: string[] = [];
    const duplicateCauses: Partial<Record<DuplicateCause, number>> = {};
    const duplicateExamples: string[] = [];
    const examplesPerCause = new Map<string, number>();
    let deliveries = 0;
    let duplicates = 0;
    for (const b of batches) {
      for (const item of b.items) {
        deliveries++;
        deliveredOn.add(`${b.shardId} ${item}`);
        const first = firstBy.get(item);
        if (first) {
          duplicates++;
          const cause = this.duplicateCause(first, b);
          duplicateCauses[cause] = (duplicateCauses[cause] ?? 0) + 1;
          const shown = examplesPerCause.get(`${cause} ${first.instance} ${b.instance}`) ?? 0;
          if (shown < 1 && duplicateExamples.length < 12) {
            examplesPerCause.set(`${cause} ${first.instance} ${b.instance}`, shown + 1);
            const inst = this.instances.get(first.instance);
            const rel = (t: number | undefined): string => (t === undefined ? '-' : `${(t - first.t).toFixed(0)}ms`);
            const leases = this.leaseEvents
              .filter((e) => e.shardId === b.shardId && e.t >= first.t - 5_000 && e.t <= b.t)
              .map((e) => `${e.instance} ${e.kind}${e.reason ? `(${e.reason})` : ''}@${rel(e.t)}`)
              .join(', ');
            duplicateExamples.push(
              `[${cause}] ${item}: first ${first.instance} on ${first.shardId}, again ${b.instance} on ${b.shardId} @${rel(b.t)}; killed @${rel(inst?.killedAt)}, stop requested @${rel(inst?.stopRequestedAt)}; lease events: ${leases || '-'}`,
            );
          }
          continue;
        }
        firstBy.set(item, { instance: b.instance, shardId: b.shardId, t: b.t });
        const hash = item.lastIndexOf('#');
        const key = item.slice(0, hash);
        const n = Number(item.slice(hash + 1));
        const high = highest.get(key) ?? -1;
        if (n < high && orderViolations.length < 20) orderViolations.push(`${key}: #${n} first delivered after #${high} (${b.instance} on ${b.shardId})`);
        highest.set(key, Math.max(high, n));
      }
    }
    const { overlaps, maxOverlapMs, tenures } = this.overlaps(batches);
    return { deliveries, unique: firstBy.size, duplicates, duplicateCauses, duplicateExamples, orderViolations, deliveredOn, maxOverlapMs, overlaps, tenures };
  }

  /**
   * What explains a second delivery: the first deliverer was killed, lost the lease (then the new
   * owner starts from the last checkpoint), or was stopped gracefully in between; or the second
   * deliverer is an old holder whose lease was taken and which only learns so at its next renewal
   * (it reports the loss within failoverTimeMillis); or the same worker retried a batch after a
   * processing error (its automatic checkpoint failed under DynamoDB faults).
   */
  private duplicateCause(first: { instance: string; shardId: string; t: number }, again: Batch): DuplicateCause {
    const firstInstance = this.instances.get(first.instance);
    const between = (t: number | undefined): boolean => t !== undefined && t >= first.t && t <= again.t;
    if (between(firstInstance?.killedAt)) return 'after kill -9 (redelivery from the last checkpoint)';
    const event = (instance: string, kind: LeaseEvent['kind'], from: number, to: number): boolean =>
      this.leaseEvents.some((e) => e.kind === kind && e.instance === instance && e.shardId === first.shardId && e.t >= from && e.t <= to);
    // The old holder may learn of the loss only at its next renewal, after the new holder's first batch.
    if (event(first.instance, 'lost', first.t, again.t + this.failoverMillis + 1_000)) return 'after a lost lease (from the last checkpoint)';
    if (first.instance !== again.instance && event(again.instance, 'lost', again.t, again.t + this.failoverMillis + 1_000)) return 'old holder before its next renewal (lease taken)';
    if (between(firstInstance?.stopRequestedAt)) return 'after a graceful stop';
    if (first.instance === again.instance) return event(first.instance, 'processingError', first.t, again.t) ? 'same worker, batch retried after a failed checkpoint' : 'same worker again';
    return 'unexplained';
  }

  private overlaps(sorted: Batch[]): { overlaps: OverlapFinding[]; maxOverlapMs: number; tenures: number } {
    interface Tenure {
      instance: string;
      /** The leaseAcquired that began it (else its first batch). */
      start: number;
      first: number;
      last: number;
    }
    const acquiredAt = new Map<string, number[]>(); // `${instance} ${shardId}` -> acquire times
    for (const e of this.leaseEvents) {
      if (e.kind !== 'acquired') continue;
      const k = `${e.instance} ${e.shardId}`;
      let list = acquiredAt.get(k);
      if (!list) acquiredAt.set(k, (list = []));
      list.push(e.t);
    }
    for (const list of acquiredAt.values()) list.sort((a, b) => a - b);
    const byShard = new Map<string, Map<string, Tenure>>(); // shard -> `${instance} ${tenureIndex}` -> tenure
    for (const b of sorted) {
      const acquires = acquiredAt.get(`${b.instance} ${b.shardId}`) ?? [];
      let index = 0;
      while (index < acquires.length && acquires[index]! <= b.t) index++;
      let tenures = byShard.get(b.shardId);
      if (!tenures) byShard.set(b.shardId, (tenures = new Map()));
      const k = `${b.instance} ${index}`;
      const tenure = tenures.get(k);
      if (tenure) tenure.last = b.t;
      else tenures.set(k, { instance: b.instance, start: index > 0 ? acquires[index - 1]! : b.t, first: b.t, last: b.t });
    }
    const overlaps: OverlapFinding[] = [];
    let maxOverlapMs = 0;
    let count = 0;
    for (const [shardId, tenureMap] of byShard) {
      const tenures = [...tenureMap.values()].sort((a, b) => a.start - b.start || a.first - b.first);
      count += tenures.length;
      for (let i = 0; i < tenures.length; i++) {
        for (let j = i + 1; j < tenures.length; j++) {
          const older = tenures[i]!;
          const newer = tenures[j]!;
          if (older.instance === newer.instance) continue;
          // How long the older holder kept delivering after the newer one's first batch.
          const overlap = older.last - newer.first;
          if (overlap <= 0) continue;
          maxOverlapMs = Math.max(maxOverlapMs, overlap);
          overlaps.push({ shardId, first: older.instance, second: newer.instance, secondStart: newer.first, overlapMs: overlap });
        }
      }
    }
    overlaps.sort((a, b) => b.overlapMs - a.overlapMs);
    return { overlaps, maxOverlapMs, tenures: count };
  }
}
