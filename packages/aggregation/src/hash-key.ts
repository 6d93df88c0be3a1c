import { createHash } from 'node:crypto';
import { AggregationError, AggregationErrorCode, InvalidExplicitHashKeyError, InvalidPartitionKeyError } from './errors.js';

/** Largest hash key: 2^128 - 1. Kinesis hash keys cover [0, MAX_HASH_KEY]. */
export const MAX_HASH_KEY = (1n << 128n) - 1n;

/** Partition keys are 1..256 characters (UTF-16 code units, as Java's String.length()). */
export const MAX_PARTITION_KEY_LENGTH = 256;

/** A shard's inclusive hash key range. */
export interface HashKeyRange {
  startingHashKey: bigint;
  endingHashKey: bigint;
}

/** The wire form (decimal strings), as in ListShards' `HashKeyRange` and the KCL lease table. */
export interface HashKeyRangeStrings {
  startingHashKey: string;
  endingHashKey: string;
}

/**
 * MD5 of the partition key's UTF-8 bytes read as a big-endian unsigned 128-bit integer: the
 * mapping Kinesis uses to route a record that has no explicit hash key.
 */
export function partitionKeyToHashKey(partitionKey: string): bigint {
  const digest = createHash('md5').update(partitionKey, 'utf8').digest();
  return (digest.readBigUInt64BE(0) << 64n) | digest.readBigUInt64BE(8);
}

/** Throws InvalidPartitionKeyError unless `partitionKey` is a string of 1..256 characters. */
export function validatePartitionKey(partitionKey: unknown): asserts partitionKey is string {
  if (typeof partitionKey !== 'string') {
    throw new InvalidPartitionKeyError(`partitionKey must be a string, got ${typeof partitionKey}`);
  }
  if (partitionKey.length === 0) throw new InvalidPartitionKeyError('partitionKey must not be empty');
  if (partitionKey.length > MAX_PARTITION_KEY_LENGTH) {
    throw new InvalidPartitionKeyError(
      `partitionKey must be at most ${MAX_PARTITION_KEY_LENGTH} characters, got ${partitionKey.length}`,
    );
  }
  if (!partitionKey.isWellFormed()) throw new InvalidPartitionKeyError('partitionKey must be valid Unicode (no lone surrogates)');
}

const DECIMAL = /^[0-9]+$/;

/**
 * Parses an explicit hash key: a base-10 integer in [0, 2^128-1] (surrounding whitespace is
 * trimmed, as the KPL does). Throws InvalidExplicitHashKeyError otherwise.
 */
export function parseExplicitHashKey(explicitHashKey: unknown): bigint {
  if (typeof explicitHashKey === 'bigint') {
    if (explicitHashKey < 0n || explicitHashKey > MAX_HASH_KEY) {
      throw new InvalidExplicitHashKeyError('explicitHashKey must be in [0, 2^128-1]');
    }
    return explicitHashKey;
  }
  if (typeof explicitHashKey !== 'string') {
    throw new InvalidExplicitHashKeyError(`explicitHashKey must be a decimal string, got ${typeof explicitHashKey}`);
  }
  const trimmed = explicitHashKey.trim();
  if (!DECIMAL.test(trimmed) || trimmed.length > 40) {
    throw new InvalidExplicitHashKeyError(`explicitHashKey must be a decimal integer in [0, 2^128-1], got "${truncate(explicitHashKey)}"`);
  }
  const value = BigInt(trimmed);
  if (value > MAX_HASH_KEY) throw new InvalidExplicitHashKeyError('explicitHashKey must be in [0, 2^128-1]');
  return value;
}

/** The hash key a record routes by: its explicit hash key if given, else MD5 of its partition key. */
export function effectiveHashKey(partitionKey: string, explicitHashKey?: string | bigint): bigint {
  return explicitHashKey === undefined ? partitionKeyToHashKey(partitionKey) : parseExplicitHashKey(explicitHashKey);
}

export function parseHashKeyRange(range: HashKeyRangeStrings): HashKeyRange {
  const startingHashKey = parseRangeBound(range.startingHashKey, 'startingHashKey');
  const endingHashKey = parseRangeBound(range.endingHashKey, 'endingHashKey');
  if (startingHashKey > endingHashKey) {
    throw new AggregationError(AggregationErrorCode.INVALID_HASH_KEY_RANGE, 'startingHashKey must not exceed endingHashKey', {
      field: 'hashKeyRange',
    });
  }
  return { startingHashKey, endingHashKey };
}

export function formatHashKeyRange(range: HashKeyRange): HashKeyRangeStrings {
  return { startingHashKey: range.startingHashKey.toString(10), endingHashKey: range.endingHashKey.toString(10) };
}

export function hashKeyInRange(hashKey: bigint, range: HashKeyRange): boolean {
  return hashKey >= range.startingHashKey && hashKey <= range.endingHashKey;
}

/**
 * Splits `range` into `count` contiguous ranges as evenly as integer division allows (the last
 * one takes the remainder), as CreateStream and UpdateShardCount(UNIFORM_SCALING) do.
 */
export function splitHashKeyRange(range: HashKeyRange, count: number): HashKeyRange[] {
  if (!Number.isInteger(count) || count < 1) {
    throw new AggregationError(AggregationErrorCode.INVALID_ARGUMENT, `count must be a positive integer, got ${count}`, { field: 'count' });
  }
  const width = range.endingHashKey - range.startingHashKey + 1n;
  const step = width / BigInt(count);
  const out: HashKeyRange[] = [];
  for (let i = 0; i < count; i++) {
    const start = range.startingHashKey + step * BigInt(i);
    const end = i === count - 1 ? range.endingHashKey : start + step - 1n;
    out.push({ startingHashKey: start, endingHashKey: end });
  }
  return out;
}

/** The whole hash space, [0, 2^128-1]. */
export const FULL_HASH_KEY_RANGE: Readonly<HashKeyRange> = Object.freeze({ startingHashKey: 0n, endingHashKey: MAX_HASH_KEY });

/**
 * True when `ranges` cover [0, 2^128-1] exactly once, with no gap and no overlap (the check
 * the KCL makes on a shard list before creating leases).
 */
export function rangesCoverHashSpace(ranges: readonly HashKeyRange[]): boolean {
  const sorted = [...ranges].sort((a, b) => (a.startingHashKey < b.startingHashKey ? -1 : a.startingHashKey > b.startingHashKey ? 1 : 0));
  let next = 0n;
  for (const r of sorted) {
    if (r.startingHashKey !== next) return false;
    next = r.endingHashKey + 1n;
  }
  return next === MAX_HASH_KEY + 1n;
}

function parseRangeBound(value: string, field: string): bigint {
  if (typeof value !== 'string' || !DECIMAL.test(value) || value.length > 40) {
    throw new AggregationError(AggregationErrorCode.INVALID_HASH_KEY_RANGE, `${field} must be a decimal integer string`, { field });
  }
  const n = BigInt(value);
  if (n > MAX_HASH_KEY) throw new AggregationError(AggregationErrorCode.INVALID_HASH_KEY_RANGE, `${field} exceeds 2^128-1`, { field });
  return n;
}

function truncate(s: string): string {
  return s.length > 50 ? `${s.slice(0, 47)}...` : s;
}
