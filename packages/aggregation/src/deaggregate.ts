import { decodeAggregatedRecordMessage, RECORD_STRIDE } from './decode.js';
import { DIGEST_LENGTH, hasAggregatedRecordMagic, MAGIC_LENGTH } from './format.js';
import { AggregationError, AggregationErrorCode } from './errors.js';
import { isHashKeyDecimal, parseHashKeyDecimal, toHashKeyRange, type HashKeyRange, type HashKeyRangeStrings } from './hash-key.js';
import { normalizeKinesisRecord, type KinesisRecordInput, type NormalizedKinesisRecord } from './kinesis-record-input.js';
import { md5, md5Hex } from './md5.js';

/** One user record as a consumer sees it (the KCL's KinesisClientRecord). */
export interface UserRecord {
  partitionKey: string;
  /** The sub-record's own explicit hash key; absent when the producer gave none. */
  explicitHashKey?: string;
  /** A view into the container's bytes (not a copy); a plain Uint8Array for sub-records. */
  data: Uint8Array;
  /** The container's sequence number (shared by all its user records). */
  sequenceNumber: string;
  /** Position in the container (0 for a record that was not aggregated). */
  subSequenceNumber: number;
  aggregated: boolean;
  /** The container's arrival time; one Date shared by its user records. */
  approximateArrivalTimestamp?: Date;
}

export interface DeaggregateOptions {
  /**
   * The shard's hash key range. When given, a container with any user record whose hash key
   * (explicit, else MD5 of its partition key) is outside it yields no records, as the KCL does
   * after a reshard (the KPL had routed the container by its first record's key only).
   */
  hashKeyRange?: HashKeyRangeStrings | HashKeyRange;
  /** Compare the MD5 trailer (default true). A mismatch means "not aggregated": the record passes through. */
  verifyChecksum?: boolean;
}

export interface DeaggregationReport {
  records: UserRecord[];
  /** The input was a KPL aggregated record (valid magic, checksum and protobuf). */
  aggregated: boolean;
  /** User records dropped because the container had one outside hashKeyRange (all of its records). */
  discardedOutOfRange: number;
  /** The magic matched but the MD5 did not: the record was passed through unchanged. */
  checksumMismatch: boolean;
  /**
   * The magic and checksum matched but the protobuf was invalid, held no records, had a key index
   * outside its table or a record whose explicit hash key is not a hash key: passed through unchanged.
   */
  malformed: boolean;
}

/**
 * Splits a Kinesis record into its user records with the KCL's rules (see deaggregateWithReport).
 * Never throws for bad record contents; throws AggregationError only for bad arguments.
 */
export function deaggregate(record: KinesisRecordInput, options?: DeaggregateOptions | null): UserRecord[] {
  return deaggregateWithReport(record, options).records;
}

/**
 * Splits a Kinesis record (SDK shape with `Data` bytes, or Lambda shape with base64 `data`) into
 * its user records, with the KCL's rules:
 * - only data starting with the magic and followed by MORE than 16 bytes is aggregated;
 * - a checksum mismatch (when verifyChecksum) or an undecodable protobuf ⇒ the record passes
 *   through unchanged, `aggregated: false`, subSequenceNumber 0 (never dropped, never thrown);
 * - sub-records get subSequenceNumber 0..n-1, their own keys, and the container's sequence
 *   number and arrival time;
 * - with hashKeyRange, a container with any sub-record out of range yields no records.
 * Deviations from the KCL, so a record is never lost: a key index outside its table, an explicit
 * hash key table entry used by a record that is not a hash key (not `new BigInteger(entry)` in
 * [0, 2^128-1]), or a container with no user records, passes the record through as malformed,
 * with or without hashKeyRange and whatever the order of the records (the KCL keeps the
 * sub-records before a bad index or an unparseable key and drops the rest; it drops a container
 * with a key outside [0, 2^128-1], and an empty container).
 * `null` options, or a `null` option, count as absent.
 */
export function deaggregateWithReport(record: KinesisRecordInput, options?: DeaggregateOptions | null): DeaggregationReport {
  if (options === undefined || options === null) options = NO_OPTIONS;
  else if (typeof options !== 'object') {
    throw new AggregationError(AggregationErrorCode.INVALID_ARGUMENT, `options must be an object, got ${typeof options}`, { field: 'options' });
  }
  const input = normalizeKinesisRecord(record);
  const range = options.hashKeyRange === undefined || options.hashKeyRange === null ? undefined : resolveRange(options.hashKeyRange);
  const data = input.data;
  if (!hasAggregatedRecordMagic(data)) return passThrough(input, false, false);

  const messageEnd = data.length - DIGEST_LENGTH;
  if (options.verifyChecksum !== false && !checksumMatches(data, messageEnd)) return passThrough(input, true, false);

  const message = decodeAggregatedRecordMessage(data, MAGIC_LENGTH, messageEnd);
  if (message === undefined || message.count === 0) return passThrough(input, false, true);

  const { partitionKeyTable, explicitHashKeyTable, count, records: fields } = message;
  const pkCount = partitionKeyTable.length;
  const ehkCount = explicitHashKeyTable.length;
  if (ehkCount > 0) resetExplicitHashKeyStates(ehkCount);
  const rangeCheck = range === undefined ? undefined : new RangeCheck(range, partitionKeyTable, explicitHashKeyTable);
  const { sequenceNumber, approximateArrivalTimestamp } = input;
  // Plain Uint8Array views: three times cheaper to create than Buffer#subarray.
  const bytes = data.buffer;
  const base = data.byteOffset;
  // Sized once (no growing and copying while pushing); every slot is filled before it is returned.
  const out = new Array<UserRecord>(count);
  for (let i = 0; i < count; i++) {
    const at = i * RECORD_STRIDE;
    const pkIndex = fields[at]!;
    const ehkIndex = fields[at + 1]!;
    // The same with or without a range: an index outside its table, or an explicit hash key that is not one, is malformed.
    if (!wellFormedRecord(pkIndex, ehkIndex, pkCount, ehkCount, explicitHashKeyTable)) return passThrough(input, false, true);
    if (rangeCheck !== undefined) {
      const inRange = ehkIndex >= 0 ? rangeCheck.explicitHashKeyInRange(ehkIndex) : rangeCheck.partitionKeyInRange(pkIndex);
      if (!inRange) {
        // Malformed wins over out of range, whatever the order, as without a range.
        if (!restWellFormed(fields, i + 1, count, pkCount, explicitHashKeyTable)) return passThrough(input, false, true);
        return { records: [], aggregated: true, discardedOutOfRange: count, checksumMismatch: false, malformed: false };
      }
    }
    const start = fields[at + 2]!;
    const view = new Uint8Array(bytes, base + start, fields[at + 3]! - start);
    out[i] = userRecord(
      partitionKeyTable[pkIndex]!,
      ehkIndex >= 0 ? explicitHashKeyTable[ehkIndex] : undefined,
      view,
      sequenceNumber,
      i,
      true,
      approximateArrivalTimestamp,
    );
  }
  return { records: out, aggregated: true, discardedOutOfRange: 0, checksumMismatch: false, malformed: false };
}

const NO_OPTIONS: DeaggregateOptions = Object.freeze({});

/**
 * Whether records [from, count) all point inside the key tables at hash keys (checked once a
 * container is being dropped, so that being malformed does not depend on the order of the records).
 */
function restWellFormed(fields: Float64Array, from: number, count: number, pkCount: number, explicitHashKeys: string[]): boolean {
  const ehkCount = explicitHashKeys.length;
  for (let i = from; i < count; i++) {
    const at = i * RECORD_STRIDE;
    if (!wellFormedRecord(fields[at]!, fields[at + 1]!, pkCount, ehkCount, explicitHashKeys)) return false;
  }
  return true;
}

/** A record's key indices point inside their tables, and its explicit hash key entry (if any) is a hash key. */
function wellFormedRecord(pkIndex: number, ehkIndex: number, pkCount: number, ehkCount: number, explicitHashKeys: string[]): boolean {
  return pkIndex < pkCount && ehkIndex < ehkCount && (ehkIndex < 0 || isHashKeyEntry(explicitHashKeys, ehkIndex));
}

/**
 * Per explicit hash key table entry of the container being read: UNKNOWN, or whether it is a hash
 * key (VALID / INVALID). Scratch memory, reset for each container (deaggregation is synchronous).
 */
let explicitHashKeyStates = new Uint8Array(256);

function resetExplicitHashKeyStates(count: number): void {
  if (explicitHashKeyStates.length < count) explicitHashKeyStates = new Uint8Array(Math.max(count, explicitHashKeyStates.length * 2));
  else explicitHashKeyStates.fill(UNKNOWN, 0, count);
}

/**
 * Whether an explicit hash key table entry is a hash key as the KCL reads it (`new BigInteger(entry)`
 * in [0, 2^128-1], see parseHashKeyDecimal); checked once per entry, and only for entries a record
 * uses, as the KCL parses only those.
 */
function isHashKeyEntry(table: string[], index: number): boolean {
  let state = explicitHashKeyStates[index]!;
  if (state === UNKNOWN) {
    const text = table[index]!;
    state = isHashKeyDecimal(text) ? VALID : INVALID;
    explicitHashKeyStates[index] = state;
  }
  return state === VALID;
}

function checksumMatches(data: Buffer, messageEnd: number): boolean {
  const digest = md5(data.subarray(MAGIC_LENGTH, messageEnd));
  for (let i = 0; i < DIGEST_LENGTH; i++) if (digest[i] !== data[messageEnd + i]) return false;
  return true;
}

function passThrough(input: NormalizedKinesisRecord, checksumMismatch: boolean, malformed: boolean): DeaggregationReport {
  const record = userRecord(
    input.partitionKey,
    input.explicitHashKey,
    input.data,
    input.sequenceNumber,
    0,
    false,
    input.approximateArrivalTimestamp,
  );
  return { records: [record], aggregated: false, discardedOutOfRange: 0, checksumMismatch, malformed };
}

/** Object literals of fixed shapes (absent fields are omitted, not undefined) keep property access monomorphic. */
function userRecord(
  partitionKey: string,
  explicitHashKey: string | undefined,
  data: Uint8Array,
  sequenceNumber: string,
  subSequenceNumber: number,
  aggregated: boolean,
  approximateArrivalTimestamp: Date | undefined,
): UserRecord {
  if (explicitHashKey === undefined) {
    return approximateArrivalTimestamp === undefined
      ? { partitionKey, data, sequenceNumber, subSequenceNumber, aggregated }
      : { partitionKey, data, sequenceNumber, subSequenceNumber, aggregated, approximateArrivalTimestamp };
  }
  return approximateArrivalTimestamp === undefined
    ? { partitionKey, explicitHashKey, data, sequenceNumber, subSequenceNumber, aggregated }
    : { partitionKey, explicitHashKey, data, sequenceNumber, subSequenceNumber, aggregated, approximateArrivalTimestamp };
}

/** A validated range, with its bounds also as 32 hex digits (fixed width: string order = numeric order). */
interface ResolvedRange {
  startingHashKey: bigint;
  endingHashKey: bigint;
  startHex: string;
  endHex: string;
}

/**
 * Ranges are usually the same object for every record of a shard: parse each once (re-parsed
 * if the object's bounds were changed since).
 */
const parsedRanges = new WeakMap<object, { from: HashKeyRangeStrings | HashKeyRange; range: ResolvedRange }>();

function resolveRange(range: HashKeyRangeStrings | HashKeyRange): ResolvedRange {
  if (typeof range !== 'object' || range === null) return withHex(toHashKeyRange(range));
  const cached = parsedRanges.get(range);
  if (cached !== undefined && cached.from.startingHashKey === range.startingHashKey && cached.from.endingHashKey === range.endingHashKey) {
    return cached.range;
  }
  const parsed = withHex(toHashKeyRange(range));
  parsedRanges.set(range, { from: { ...range }, range: parsed });
  return parsed;
}

function withHex({ startingHashKey, endingHashKey }: HashKeyRange): ResolvedRange {
  return { startingHashKey, endingHashKey, startHex: hex128(startingHashKey), endHex: hex128(endingHashKey) };
}

function hex128(value: bigint): string {
  return value.toString(16).padStart(32, '0');
}

/**
 * Partition key -> MD5 hex, remembered across containers: a shard's containers keep repeating
 * the same keys, and an MD5 costs ~1 µs where a lookup costs ~20 ns. Bounded: forgotten all at
 * once past MAX_CACHED_HASHES keys.
 */
const partitionKeyHashes = new Map<string, string>();
const MAX_CACHED_HASHES = 4096;

function partitionKeyHashHex(partitionKey: string): string {
  let hex = partitionKeyHashes.get(partitionKey);
  if (hex === undefined) {
    if (partitionKeyHashes.size >= MAX_CACHED_HASHES) partitionKeyHashes.clear();
    hex = md5Hex(partitionKey);
    partitionKeyHashes.set(partitionKey, hex);
  }
  return hex;
}

/** Range membership per key-table entry, computed lazily (at most one MD5 per distinct partition key). */
class RangeCheck {
  private readonly partitionKeyResults: Uint8Array;
  private readonly explicitHashKeyResults: Uint8Array;

  constructor(
    private readonly range: ResolvedRange,
    private readonly partitionKeys: string[],
    private readonly explicitHashKeys: string[],
  ) {
    this.partitionKeyResults = new Uint8Array(partitionKeys.length);
    this.explicitHashKeyResults = new Uint8Array(explicitHashKeys.length);
  }

  partitionKeyInRange(index: number): boolean {
    let result = this.partitionKeyResults[index]!;
    if (result === UNKNOWN) {
      const hex = partitionKeyHashHex(this.partitionKeys[index]!);
      result = hex >= this.range.startHex && hex <= this.range.endHex ? IN_RANGE : OUT_OF_RANGE;
      this.partitionKeyResults[index] = result;
    }
    return result === IN_RANGE;
  }

  /** By the entry's value ("+5" and "005" are 5); only for an entry isHashKeyEntry accepted. */
  explicitHashKeyInRange(index: number): boolean {
    let result = this.explicitHashKeyResults[index]!;
    if (result === UNKNOWN) {
      result = this.classify(parseHashKeyDecimal(this.explicitHashKeys[index]!)!);
      this.explicitHashKeyResults[index] = result;
    }
    return result === IN_RANGE;
  }

  private classify(hashKey: bigint): number {
    return hashKey >= this.range.startingHashKey && hashKey <= this.range.endingHashKey ? IN_RANGE : OUT_OF_RANGE;
  }
}

const UNKNOWN = 0;
const IN_RANGE = 1;
const OUT_OF_RANGE = 2;
const VALID = 1;
const INVALID = 2;
