import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { isSentinel, isSequenceNumber } from '@kinesis-kit/aggregation';
import { LeaseAttribute as A, LEASE_ENTITY_TYPE, parseCounter, type LeaseItem } from './lease-serializer.js';

/**
 * Lease rows that workers cannot use, listed by `kinesis-kit leases` and fixed by its `--repair`.
 * A hand-edited leaseCounter that is not an integer makes every worker skip the row (the shard is
 * never processed); a checkpoint that is neither a sequence number nor a sentinel stalls the shard
 * on GetShardIterator. Both look healthy in the table until someone wonders why a shard is silent.
 */
export type LeaseProblemKind = 'bad-lease-counter' | 'bad-checkpoint' | 'bad-pending-checkpoint';

export interface LeaseProblem {
  leaseKey: string;
  kind: LeaseProblemKind;
  /** What is wrong, with the value found. */
  detail: string;
}

/** Where a repaired lease restarts when its checkpoint was unreadable. */
export type CheckpointResetPosition = 'TRIM_HORIZON' | 'LATEST';

/**
 * One conditional UpdateItem: it applies only if every attribute it touches still holds what was
 * read (absent stays absent), so a worker's write in between is never overwritten.
 */
export interface LeaseRepair {
  leaseKey: string;
  set: Record<string, AttributeValue>;
  remove: string[];
  expected: Record<string, AttributeValue | undefined>;
  /** What the repair does, in words. */
  description: string;
}

const PENDING_ATTRIBUTES = [A.pendingCheckpoint, A.pendingCheckpointSubSequenceNumber, A.pendingCheckpointState] as const;

/** The problems of one item (none for items that are not leases, e.g. KCL 3.x worker-metrics rows). */
export function findLeaseProblems(item: LeaseItem): LeaseProblem[] {
  const entityType = item[A.entityType];
  if (entityType !== undefined && entityType.S !== LEASE_ENTITY_TYPE) return [];
  const leaseKey = item[A.leaseKey]?.S;
  if (leaseKey === undefined) return [];
  const problems: LeaseProblem[] = [];
  const counter = item[A.leaseCounter];
  if (counter?.N === undefined || parseCounter(counter.N) === undefined) {
    problems.push({ leaseKey, kind: 'bad-lease-counter', detail: `leaseCounter is ${describe(counter)}, not an integer N: every worker skips this lease` });
  }
  const checkpoint = item[A.checkpoint];
  if (checkpoint !== undefined && !isPosition(checkpoint)) {
    // Workers read a checkpoint that is not an S as none (the shard starts at the initial position).
    const effect = checkpoint.S === undefined ? 'read as no checkpoint' : 'the shard cannot be read';
    problems.push({ leaseKey, kind: 'bad-checkpoint', detail: `checkpoint is ${describe(checkpoint)}, not a sequence number or sentinel: ${effect}` });
  }
  const pending = item[A.pendingCheckpoint];
  if (pending !== undefined && !isPosition(pending)) {
    problems.push({ leaseKey, kind: 'bad-pending-checkpoint', detail: `pendingCheckpoint is ${describe(pending)}, not a sequence number or sentinel` });
  }
  return problems;
}

/**
 * The write that fixes an item's problems, or undefined when it has none:
 * - a bad leaseCounter becomes 1 (the lease's owner loses it at its next renewal; a taker picks it up);
 * - a bad checkpoint becomes `resetTo` (TRIM_HORIZON: nothing is skipped, records after the lost
 *   position are read again) and any pending checkpoint is dropped;
 * - a bad pending checkpoint is dropped.
 * The lease is also evicted as the KCL evicts one (owner removed, counter changed), so whoever holds
 * it lets go at its next renewal and the next taker starts from the repaired row. Without removing
 * the owner, a new counter equal to the owner's next renewal would read to it as its own write.
 */
export function planLeaseRepair(item: LeaseItem, resetTo: CheckpointResetPosition = 'TRIM_HORIZON'): LeaseRepair | undefined {
  const problems = findLeaseProblems(item);
  if (problems.length === 0) return undefined;
  const leaseKey = problems[0]!.leaseKey;
  const kinds = new Set(problems.map((p) => p.kind));
  const set: Record<string, AttributeValue> = {};
  const remove = new Set<string>();
  const expected: Record<string, AttributeValue | undefined> = { [A.leaseCounter]: item[A.leaseCounter], [A.leaseOwner]: item[A.leaseOwner] };
  const actions: string[] = [];
  const counter = parseCounter(item[A.leaseCounter]?.N);
  if (counter === undefined) {
    set[A.leaseCounter] = { N: '1' };
    actions.push('leaseCounter set to 1');
  } else {
    set[A.leaseCounter] = { N: (counter + 1n).toString() };
    actions.push(`leaseCounter ${counter} -> ${counter + 1n}`);
  }
  const owner = item[A.leaseOwner];
  if (owner !== undefined) {
    remove.add(A.leaseOwner);
    actions.push(`owner ${owner.S ?? describe(owner)} removed (free to take)`);
  }
  if (kinds.has('bad-checkpoint')) {
    expected[A.checkpoint] = item[A.checkpoint];
    expected[A.checkpointSubSequenceNumber] = item[A.checkpointSubSequenceNumber];
    set[A.checkpoint] = { S: resetTo };
    set[A.checkpointSubSequenceNumber] = { N: '0' };
    actions.push(`checkpoint reset to ${resetTo}`);
  }
  if (kinds.has('bad-checkpoint') || kinds.has('bad-pending-checkpoint')) {
    for (const name of PENDING_ATTRIBUTES) {
      expected[name] = item[name];
      if (item[name] !== undefined) remove.add(name);
    }
    if (remove.size > 0) actions.push('pending checkpoint removed');
  }
  return { leaseKey, set, remove: [...remove], expected, description: actions.join('; ') };
}

function isPosition(value: AttributeValue): boolean {
  const s = value.S;
  return s !== undefined && (isSequenceNumber(s) || isSentinel(s));
}

function describe(value: AttributeValue | undefined): string {
  if (value === undefined) return 'missing';
  const entry: [string, unknown] = Object.entries(value)[0] ?? ['?', undefined];
  const [type, v] = entry;
  const text = typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v) : '(binary or set)';
  return `${type} ${text}`;
}
