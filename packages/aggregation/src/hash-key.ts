import { createHash } from 'node:crypto';
import { AggregationError, AggregationErrorCode, InvalidExplicitHashKeyError, InvalidHashKeyRangeError, InvalidPartitionKeyError } from './errors.js';

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
/** Decimal without leading zeros and at most 38 digits: always < 10^38 < 2^128, so already canonical. */
const CANONICAL_SHORT_DECIMAL = /^(?:0|[1-9][0-9]{0,37})$/;
/**
 * What Java's `new BigInteger(s)` accepts, in ASCII: an optional sign, then decimal digits (any
 * number, leading zeros included). BigInteger also takes non-ASCII Unicode digits (Arabic-Indic,
 * fullwidth, ...); we accept ASCII digits only, which is all the KPL ever writes.
 */
const SIGNED_DECIMAL = /^[+-]?[0-9]+$/;
/** Digits in 2^128-1 = 340282366920938463463374607431768211455. */
const MAX_HASH_KEY_DIGITS = 39;

/**
 * The value of a hash key written as Java's `new BigInteger(text)` reads it (optional `+`/`-`,
 * ASCII digits, any length, no whitespace), or undefined when it does not parse or is outside
 * [0, 2^128-1] (`"-0"` is 0). How the KCL reads an explicit hash key table entry.
 */
export function parseHashKeyDecimal(text: string): bigint | undefined {
  if (!SIGNED_DECIMAL.test(text)) return undefined;
  const sign = text.charCodeAt(0);
  const negative = sign === 45; // '-'
  let i = negative || sign === 43 ? 1 : 0; // '+'
  while (i < text.length - 1 && text.charCodeAt(i) === 48) i++; // leading zeros
  const digits = text.length - i;
  if (digits > MAX_HASH_KEY_DIGITS) return undefined;
  const value = BigInt(i === 0 ? text : text.slice(i));
  if (negative ? value !== 0n : value > MAX_HASH_KEY) return undefined;
  return value;
}

/**
 * Whether `text` is a hash key as parseHashKeyDecimal reads it; what the KPL writes (canonical
 * decimals of up to 38 digits) is recognised by its characters, without BigInt.
 */
export function isHashKeyDecimal(text: string): boolean {
  return CANONICAL_SHORT_DECIMAL.test(text) || parseHashKeyDecimal(text) !== undefined;
}

/**
 * Parses an explicit hash key as the KPL does: Java's `String.trim()` (characters U+0000..U+0020
 * at both ends; not NBSP, BOM or other Unicode spaces), then `new BigInteger(s)` (an optional `+` or
 * `-`, leading zeros allowed; ASCII digits only here), and the value must be in [0, 2^128-1]
 * (`"-0"` is 0). Throws InvalidExplicitHashKeyError otherwise.
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
  const trimmed = javaTrim(explicitHashKey);
  if (!SIGNED_DECIMAL.test(trimmed)) {
    throw new InvalidExplicitHashKeyError(`explicitHashKey must be a decimal integer in [0, 2^128-1], got "${truncate(explicitHashKey)}"`);
  }
  const value = parseHashKeyDecimal(trimmed);
  if (value === undefined) throw new InvalidExplicitHashKeyError('explicitHashKey must be in [0, 2^128-1]');
  return value;
}

/**
 * The form the KPL writes an explicit hash key in (the uint128 as `toString(10)`: trimmed, no
 * sign, no leading zeros). Validates like parseExplicitHashKey; avoids BigInt for keys already canonical.
 */
export function canonicalExplicitHashKey(explicitHashKey: unknown): string {
  if (typeof explicitHashKey === 'string' && CANONICAL_SHORT_DECIMAL.test(explicitHashKey)) return explicitHashKey;
  return parseExplicitHashKey(explicitHashKey).toString(10);
}

/** The hash key a record routes by: its explicit hash key if given, else MD5 of its partition key. */
export function effectiveHashKey(partitionKey: string, explicitHashKey?: string | bigint): bigint {
  return explicitHashKey === undefined ? partitionKeyToHashKey(partitionKey) : parseExplicitHashKey(explicitHashKey);
}

/** Parses a wire-form range (decimal strings). Throws InvalidHashKeyRangeError on bad bounds or start > end. */
export function parseHashKeyRange(range: HashKeyRangeStrings): HashKeyRange {
  if (typeof range !== 'object' || range === null) throw new InvalidHashKeyRangeError('hashKeyRange must be an object');
  const startingHashKey = parseRangeBound(range.startingHashKey, 'startingHashKey');
  const endingHashKey = parseRangeBound(range.endingHashKey, 'endingHashKey');
  if (startingHashKey > endingHashKey) throw new InvalidHashKeyRangeError('startingHashKey must not exceed endingHashKey');
  return { startingHashKey, endingHashKey };
}

/**
 * Accepts either form (decimal strings, as ListShards returns them, or bigints) and returns a
 * validated bigint range. Throws InvalidHashKeyRangeError.
 */
export function toHashKeyRange(range: HashKeyRange | HashKeyRangeStrings): HashKeyRange {
  if (typeof range === 'object' && range !== null && typeof range.startingHashKey === 'bigint' && typeof range.endingHashKey === 'bigint') {
    const { startingHashKey, endingHashKey } = range;
    if (startingHashKey < 0n || endingHashKey > MAX_HASH_KEY) throw new InvalidHashKeyRangeError('hash key range bounds must be in [0, 2^128-1]');
    if (startingHashKey > endingHashKey) throw new InvalidHashKeyRangeError('startingHashKey must not exceed endingHashKey');
    return { startingHashKey, endingHashKey };
  }
  return parseHashKeyRange(range as HashKeyRangeStrings);
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
  if (BigInt(count) > width) {
    throw new AggregationError(AggregationErrorCode.INVALID_ARGUMENT, `cannot split ${width} hash keys into ${count} ranges`, { field: 'count' });
  }
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
    if (r.startingHashKey !== next || r.endingHashKey < r.startingHashKey) return false;
    next = r.endingHashKey + 1n;
  }
  return next === MAX_HASH_KEY + 1n;
}

function parseRangeBound(value: unknown, field: string): bigint {
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw new InvalidHashKeyRangeError(`${field} must be a decimal integer string`, { field });
  }
  const significant = value.replace(/^0+(?=[0-9])/, '');
  if (significant.length > MAX_HASH_KEY_DIGITS || BigInt(significant) > MAX_HASH_KEY) {
    throw new InvalidHashKeyRangeError(`${field} exceeds 2^128-1`, { field });
  }
  return BigInt(significant);
}

/** Java's String.trim(): strips characters <= U+0020 (controls and space) from both ends, nothing else. */
function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

function truncate(s: string): string {
  return s.length > 50 ? `${s.slice(0, 47)}...` : s;
}
