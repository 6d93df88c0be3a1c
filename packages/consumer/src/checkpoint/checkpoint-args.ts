import { isSequenceNumber, SentinelCheckpoint, type ExtendedSequenceNumber } from '@kinesis-kit/aggregation';
import { InvalidCheckpointError } from '../errors.js';

/** Anything with a sequence number and (KPL) sub-sequence number: a UserRecord from @kinesis-kit/aggregation fits. */
export interface CheckpointPosition {
  sequenceNumber: string;
  subSequenceNumber?: number;
}

export interface ParsedCheckpointArgs {
  /** Undefined = "the largest position delivered so far". */
  position?: ExtendedSequenceNumber;
  applicationState?: Uint8Array;
}

/**
 * Reads the argument forms of checkpoint(): (), (sequenceNumber, subSequenceNumber?), (record).
 * Only real sequence numbers and SHARD_END are accepted; sub-sequence numbers must be integers >= 0.
 */
export function parseCheckpointArgs(args: readonly unknown[], where: { leaseKey: string; shardId: string }): ParsedCheckpointArgs {
  if (args.length === 0 || (args.length === 1 && args[0] === undefined)) return {};
  const [first, second] = args;
  if (typeof first === 'string') return { position: position(first, second, where) };
  if (isPositionObject(first)) {
    if (args.length > 1) throw malformed('checkpoint(record) takes no other argument', where, 'subSequenceNumber');
    return { position: position(first.sequenceNumber, first.subSequenceNumber, where) };
  }
  throw malformed(`expected a sequence number string or a record, got ${describe(first)}`, where, 'sequenceNumber');
}

/**
 * Reads the argument forms of prepareCheckpoint(): (), (applicationState), (sequenceNumber,
 * subSequenceNumber?, applicationState?), (record, applicationState?).
 */
export function parsePrepareCheckpointArgs(
  args: readonly unknown[],
  where: { leaseKey: string; shardId: string },
): ParsedCheckpointArgs {
  const a = [...args];
  while (a.length > 0 && a[a.length - 1] === undefined) a.pop();
  if (a.length === 0) return {};
  const last = a[a.length - 1];
  let applicationState: Uint8Array | undefined;
  if (last instanceof Uint8Array) {
    applicationState = last;
    a.pop();
  }
  if (a.some((x) => x instanceof Uint8Array)) throw malformed('applicationState must be the last argument', where, 'applicationState');
  const parsed = parseCheckpointArgs(a, where);
  return applicationState ? { ...parsed, applicationState } : parsed;
}

function position(sequenceNumber: string, subSequenceNumber: unknown, where: { leaseKey: string; shardId: string }): ExtendedSequenceNumber {
  if (sequenceNumber !== SentinelCheckpoint.SHARD_END && !isSequenceNumber(sequenceNumber)) {
    throw malformed(`sequenceNumber must be a decimal sequence number (or SHARD_END), got ${JSON.stringify(sequenceNumber)}`, where, 'sequenceNumber', sequenceNumber);
  }
  if (subSequenceNumber !== undefined && (typeof subSequenceNumber !== 'number' || !Number.isSafeInteger(subSequenceNumber) || subSequenceNumber < 0)) {
    throw malformed(`subSequenceNumber must be an integer >= 0, got ${describe(subSequenceNumber)}`, where, 'subSequenceNumber', sequenceNumber);
  }
  return { sequenceNumber, subSequenceNumber: subSequenceNumber ?? 0 };
}

function isPositionObject(x: unknown): x is CheckpointPosition {
  return typeof x === 'object' && x !== null && typeof (x as { sequenceNumber?: unknown }).sequenceNumber === 'string';
}

function malformed(
  message: string,
  where: { leaseKey: string; shardId: string },
  field: string,
  sequenceNumber?: string,
): InvalidCheckpointError {
  return new InvalidCheckpointError('malformed', message, { ...where, field, ...(sequenceNumber !== undefined ? { sequenceNumber } : {}) });
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return Array.isArray(x) ? 'an array' : 'an object without a sequenceNumber string';
  if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint') return `${typeof x} ${x}`;
  return typeof x;
}
