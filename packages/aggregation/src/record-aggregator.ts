import { ContainerBuilder } from './container-builder.js';
import { AggregationConfigError } from './errors.js';
import { partitionKeyToHashKey } from './hash-key.js';
import { validateRecordExceptPartitionKey, validateUserRecordInput, type UserRecordInput } from './user-record-input.js';

/** KPL defaults (`AggregationMaxCount`, `AggregationMaxSize`) and ranges. */
export const RECORD_AGGREGATOR_DEFAULTS = {
  /** KPL AggregationMaxCount: 4294967295, i.e. unlimited. */
  maxCount: 4294967295,
  /** KPL AggregationMaxSize: 51200 bytes. */
  maxSize: 51200,
} as const;

export const RECORD_AGGREGATOR_LIMITS = {
  maxCount: { min: 1, max: 4294967295 },
  maxSize: { min: 64, max: 10485760 },
} as const;

export interface RecordAggregatorOptions {
  /** Most user records in one aggregated record (KPL AggregationMaxCount), 1..4294967295. */
  maxCount?: number;
  /** Most bytes of one aggregated record's data (KPL AggregationMaxSize), 64..10485760. */
  maxSize?: number;
}

export type ResolvedRecordAggregatorOptions = Required<RecordAggregatorOptions>;

/** Fills in defaults and validates ranges; throws AggregationConfigError naming the option. */
export function resolveRecordAggregatorOptions(options: RecordAggregatorOptions = {}): ResolvedRecordAggregatorOptions {
  const resolved = {
    maxCount: options.maxCount ?? RECORD_AGGREGATOR_DEFAULTS.maxCount,
    maxSize: options.maxSize ?? RECORD_AGGREGATOR_DEFAULTS.maxSize,
  };
  for (const field of ['maxCount', 'maxSize'] as const) {
    const value = resolved[field];
    const { min, max } = RECORD_AGGREGATOR_LIMITS[field];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new AggregationConfigError(`${field} must be an integer in [${min}, ${max}], got ${String(value)}`, { field });
    }
  }
  return resolved;
}

/** A user record handed to RecordAggregator, with an optional caller context carried through. */
export interface AggregatorUserRecord<T = unknown> extends UserRecordInput {
  context?: T;
}

/** A user record inside an emitted AggregatedRecord (explicit hash key in canonical form). */
export interface BufferedUserRecord<T = unknown> {
  partitionKey: string;
  explicitHashKey?: string;
  data: Uint8Array;
  context?: T;
}

/** One Kinesis record ready for PutRecords, as the KPL would send it. */
export interface AggregatedRecord<T = unknown> {
  /** `'a'` for an aggregated record (the KPL's choice: routing is by explicitHashKey), else the user's key. */
  partitionKey: string;
  /** Decimal hash key of the first user record: its explicit hash key or MD5 of its partition key. */
  explicitHashKey: string;
  /** The aggregated container, or the user's bytes unchanged when it holds one record. */
  data: Uint8Array;
  aggregated: boolean;
  /** The user records in order; the index is the sub-sequence number a consumer will see. */
  userRecords: BufferedUserRecord<T>[];
}

/** The outer partition key the KPL puts on aggregated records. */
export const AGGREGATED_PARTITION_KEY = 'a';

/**
 * Packs user records into KPL aggregated records incrementally, with exact size accounting: a
 * container never exceeds `maxSize` bytes and `size` is always the exact length its data would
 * have if flushed now. A container holding a single record is emitted raw (the user's bytes and
 * key), as the KPL does; a record too big to share a container is emitted alone and raw.
 *
 * The aggregator keeps references to the records' data: don't modify it until it is emitted.
 */
export class RecordAggregator<T = unknown> {
  readonly maxCount: number;
  readonly maxSize: number;
  private readonly builder = new ContainerBuilder();
  private userRecords: BufferedUserRecord<T>[] = [];

  constructor(options: RecordAggregatorOptions = {}) {
    const resolved = resolveRecordAggregatorOptions(options);
    this.maxCount = resolved.maxCount;
    this.maxSize = resolved.maxSize;
  }

  /** User records in the current (unemitted) container. */
  get count(): number {
    return this.userRecords.length;
  }

  /** Exact length of the data the current container would be emitted with if flushed now (0 when empty). */
  get size(): number {
    const records = this.userRecords;
    if (records.length === 0) return 0;
    if (records.length === 1) return records[0]!.data.length;
    return this.builder.encodedSize;
  }

  /**
   * True when the record can join the current container within maxSize (and the container is
   * below maxCount), i.e. `add` would not have to emit the current container first. Validates
   * the record like `add` (throws the same errors). An empty aggregator accepts any record that
   * is not too big to be aggregated at all.
   */
  wouldFit(record: AggregatorUserRecord<T>): boolean {
    const explicitHashKey = validateUserRecordInput(record);
    if (this.userRecords.length >= this.maxCount) return false;
    return this.builder.sizeWith(record.partitionKey, explicitHashKey, record.data.length) <= this.maxSize;
  }

  /**
   * Adds a user record and returns the containers that became complete, in order: the current
   * one when the record does not fit in it, then the record alone (raw) when it is too big to
   * share any container, or the container the record completed by reaching maxCount. Usually [].
   * Throws InvalidPartitionKeyError / InvalidExplicitHashKeyError / InvalidDataError without
   * changing anything when the record is invalid.
   */
  add(record: AggregatorUserRecord<T>): AggregatedRecord<T>[] {
    const explicitHashKey = validateRecordExceptPartitionKey(record);
    const { partitionKey, data } = record;
    const builder = this.builder;
    // tryAdd validates the partition key (before changing anything) unless the container already has it.
    if (builder.tryAdd(partitionKey, explicitHashKey, data, this.maxSize)) {
      this.userRecords.push(bufferedRecord(partitionKey, explicitHashKey, data, record.context));
      return this.userRecords.length >= this.maxCount ? [this.emit()] : [];
    }
    const buffered = bufferedRecord(partitionKey, explicitHashKey, data, record.context);
    if (this.userRecords.length === 0) return [emitAlone(buffered)];
    const out = [this.emit()];
    if (builder.tryAdd(partitionKey, explicitHashKey, data, this.maxSize)) {
      this.userRecords.push(buffered);
    } else {
      out.push(emitAlone(buffered));
    }
    return out;
  }

  /** Emits the current container (raw when it holds one record), or undefined when empty. */
  flush(): AggregatedRecord<T> | undefined {
    return this.userRecords.length === 0 ? undefined : this.emit();
  }

  private emit(): AggregatedRecord<T> {
    const userRecords = this.userRecords;
    const result =
      userRecords.length === 1
        ? emitAlone(userRecords[0]!)
        : {
            partitionKey: AGGREGATED_PARTITION_KEY,
            explicitHashKey: routingHashKey(userRecords[0]!),
            data: this.builder.encode(),
            aggregated: true,
            userRecords,
          };
    this.builder.reset();
    this.userRecords = [];
    return result;
  }
}

function bufferedRecord<T>(
  partitionKey: string,
  explicitHashKey: string | undefined,
  data: Uint8Array,
  context: T | undefined,
): BufferedUserRecord<T> {
  const record: BufferedUserRecord<T> = { partitionKey, data };
  if (explicitHashKey !== undefined) record.explicitHashKey = explicitHashKey;
  if (context !== undefined) record.context = context;
  return record;
}

function emitAlone<T>(record: BufferedUserRecord<T>): AggregatedRecord<T> {
  return {
    partitionKey: record.partitionKey,
    explicitHashKey: routingHashKey(record),
    data: record.data,
    aggregated: false,
    userRecords: [record],
  };
}

/** The hash key the KPL sends a container with: the first record's EHK, else MD5 of its key. */
function routingHashKey(record: BufferedUserRecord<unknown>): string {
  return record.explicitHashKey ?? partitionKeyToHashKey(record.partitionKey).toString(10);
}
