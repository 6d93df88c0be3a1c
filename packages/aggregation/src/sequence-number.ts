import { InvalidSequenceNumberError } from './errors.js';

/** Checkpoint sentinels, stored as these strings in the KCL lease table's `checkpoint` attribute. */
export const SentinelCheckpoint = {
  TRIM_HORIZON: 'TRIM_HORIZON',
  LATEST: 'LATEST',
  AT_TIMESTAMP: 'AT_TIMESTAMP',
  SHARD_END: 'SHARD_END',
} as const;
export type SentinelCheckpoint = (typeof SentinelCheckpoint)[keyof typeof SentinelCheckpoint];

/**
 * Where sentinels sort relative to real sequence numbers (KCL ExtendedSequenceNumber):
 * AT_TIMESTAMP < TRIM_HORIZON < LATEST < every real sequence number (rank 0) < SHARD_END.
 */
const SENTINEL_RANK: Record<SentinelCheckpoint, number> = {
  AT_TIMESTAMP: -3,
  TRIM_HORIZON: -2,
  LATEST: -1,
  SHARD_END: 1,
};
const NUMBER_RANK = 0;

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
  if (typeof value !== 'object' || value === null) {
    throw new InvalidSequenceNumberError(`an extended sequence number must be an object, got ${value === null ? 'null' : typeof value}`);
  }
  if (typeof value.sequenceNumber !== 'string' || (!isSentinel(value.sequenceNumber) && !isSequenceNumber(value.sequenceNumber))) {
    throw new InvalidSequenceNumberError(`sequenceNumber must be a decimal string or a sentinel, got ${JSON.stringify(value.sequenceNumber)}`);
  }
  const sub = value.subSequenceNumber;
  if (sub !== undefined && (!Number.isSafeInteger(sub) || sub < 0)) {
    throw new InvalidSequenceNumberError(`subSequenceNumber must be a non-negative integer, got ${String(sub)}`);
  }
}

/**
 * Compares two extended sequence numbers as the KCL's ExtendedSequenceNumber.compareTo does:
 * AT_TIMESTAMP < TRIM_HORIZON < LATEST < every real sequence number (compared as integers) <
 * SHARD_END; equal sequence numbers, and equal sentinels other than SHARD_END, are then ordered by
 * sub-sequence number (absent = 0); SHARD_END equals SHARD_END whatever the sub-sequence numbers.
 * Returns a negative number, zero or a positive number. Throws InvalidSequenceNumberError for
 * anything else.
 */
export function compareExtendedSequenceNumbers(a: ExtendedSequenceNumber, b: ExtendedSequenceNumber): number {
  const ra = rank(a?.sequenceNumber);
  const rb = rank(b?.sequenceNumber);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (ra === SENTINEL_RANK.SHARD_END) return 0;
  if (ra === NUMBER_RANK) {
    const bySequence = compareDecimals(a.sequenceNumber, b.sequenceNumber);
    if (bySequence !== 0) return bySequence;
  }
  const sa = a.subSequenceNumber ?? 0;
  const sb = b.subSequenceNumber ?? 0;
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}

/** Compares two plain sequence numbers (decimal strings) numerically. Throws InvalidSequenceNumberError otherwise. */
export function compareSequenceNumbers(a: string, b: string): number {
  for (const value of [a, b]) {
    if (!isSequenceNumber(value)) throw new InvalidSequenceNumberError(`not a sequence number: ${JSON.stringify(value)}`);
  }
  return compareDecimals(a, b);
}

/** Numeric order of two decimal strings without BigInt: strip leading zeros, then longer is larger, then lexicographic. */
function compareDecimals(a: string, b: string): number {
  const x = stripLeadingZeros(a);
  const y = stripLeadingZeros(b);
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x === y ? 0 : x < y ? -1 : 1;
}

function stripLeadingZeros(s: string): string {
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
  return i === 0 ? s : s.slice(i);
}

function rank(sequenceNumber: unknown): number {
  if (typeof sequenceNumber === 'string') {
    if (isSentinel(sequenceNumber)) return SENTINEL_RANK[sequenceNumber];
    if (isSequenceNumber(sequenceNumber)) return NUMBER_RANK;
  }
  throw new InvalidSequenceNumberError(`not a sequence number or sentinel: ${JSON.stringify(sequenceNumber)}`);
}
