import { InvalidSequenceNumberError } from './errors.js';

/** Checkpoint sentinels, stored as these strings in the KCL lease table's `checkpoint` attribute. */
export const SentinelCheckpoint = {
  TRIM_HORIZON: 'TRIM_HORIZON',
  LATEST: 'LATEST',
  AT_TIMESTAMP: 'AT_TIMESTAMP',
  SHARD_END: 'SHARD_END',
} as const;
export type SentinelCheckpoint = (typeof SentinelCheckpoint)[keyof typeof SentinelCheckpoint];

/** Order of sentinels relative to real sequence numbers (KCL ExtendedSequenceNumber); SHARD_END is above all. */
const SENTINEL_RANK: Record<SentinelCheckpoint, bigint> = {
  AT_TIMESTAMP: -3n,
  TRIM_HORIZON: -2n,
  LATEST: -1n,
  SHARD_END: 1n << 256n,
};

/** A position in a shard: a sequence number (or sentinel) plus the KPL sub-sequence number. */
export interface ExtendedSequenceNumber {
  sequenceNumber: string;
  subSequenceNumber?: number;
}

const DECIMAL = /^[0-9]{1,128}$/;

export function isSentinel(value: string): value is SentinelCheckpoint {
  return Object.prototype.hasOwnProperty.call(SentinelCheckpoint, value);
}

/** True for a real (non-sentinel) sequence number: a non-empty decimal string. */
export function isSequenceNumber(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL.test(value);
}

/** Throws InvalidSequenceNumberError unless `value` is a decimal sequence number or a sentinel. */
export function validateExtendedSequenceNumber(value: ExtendedSequenceNumber): void {
  if (typeof value.sequenceNumber !== 'string' || (!isSentinel(value.sequenceNumber) && !isSequenceNumber(value.sequenceNumber))) {
    throw new InvalidSequenceNumberError(`sequenceNumber must be a decimal string or a sentinel, got ${JSON.stringify(value.sequenceNumber)}`);
  }
  const sub = value.subSequenceNumber;
  if (sub !== undefined && (!Number.isSafeInteger(sub) || sub < 0)) {
    throw new InvalidSequenceNumberError(`subSequenceNumber must be a non-negative integer, got ${String(sub)}`);
  }
}

/**
 * Compares two extended sequence numbers as the KCL does: AT_TIMESTAMP < TRIM_HORIZON < LATEST <
 * every real sequence number (compared as integers, then by sub-sequence number) < SHARD_END.
 * Returns a negative number, zero or a positive number.
 */
export function compareExtendedSequenceNumbers(a: ExtendedSequenceNumber, b: ExtendedSequenceNumber): number {
  const ra = rank(a.sequenceNumber);
  const rb = rank(b.sequenceNumber);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (isSentinel(a.sequenceNumber)) return 0;
  const sa = a.subSequenceNumber ?? 0;
  const sb = b.subSequenceNumber ?? 0;
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}

/** Compares two plain sequence numbers (decimal strings) numerically. */
export function compareSequenceNumbers(a: string, b: string): number {
  if (a.length !== b.length && !a.startsWith('0') && !b.startsWith('0')) return a.length < b.length ? -1 : 1;
  const x = BigInt(a);
  const y = BigInt(b);
  return x === y ? 0 : x < y ? -1 : 1;
}

function rank(sequenceNumber: string): bigint {
  if (isSentinel(sequenceNumber)) return SENTINEL_RANK[sequenceNumber];
  if (!isSequenceNumber(sequenceNumber)) {
    throw new InvalidSequenceNumberError(`not a sequence number or sentinel: ${JSON.stringify(sequenceNumber)}`);
  }
  return BigInt(sequenceNumber);
}
