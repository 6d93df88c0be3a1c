import { ContainerBuilder } from './container-builder.js';
import { AggregationConfigError } from './errors.js';
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

/**
 * The usual shape of a record handed to RecordAggregator: the user record fields, plus a `context`
 * of the caller's (its own bookkeeping; the aggregator never reads it). Any object with the user
 * record fields will do: `userRecords` hands back the very objects given to `add`.
 */
export interface AggregatorUserRecord<T = unknown> extends UserRecordInput {
  context?: T;
}

/** One Kinesis record ready for PutRecords, as the KPL would send it. */
export interface AggregatedRecord<R extends UserRecordInput = AggregatorUserRecord> {
  /** `'a'` for an aggregated record (the KPL's choice: routing is by explicitHashKey), else the user's key. */
  partitionKey: string;
  /** Decimal hash key of the first user record: its explicit hash key (canonical form) or MD5 of its partition key. */
  explicitHashKey: string;
  /** The aggregated container, or the user's bytes unchanged when it holds one record. */
  data: Uint8Array;
  aggregated: boolean;
  /**
   * The objects given to `add`, the same objects (not copies), in order: the index is the
   * sub-sequence number a consumer will see. An explicit hash key in them is as the caller wrote
   * it; the container's bytes and `explicitHashKey` carry the canonical form.
   */
  userRecords: R[];
}

/** The outer partition key the KPL puts on aggregated records. */
export const AGGREGATED_PARTITION_KEY = 'a';

/**
 * Packs user records into KPL aggregated records incrementally, with exact size accounting: a
 * container never exceeds `maxSize` bytes and `size` is always the exact length its data would
 * have if flushed now. A container holding a single record is emitted raw (the user's bytes and
 * key), as the KPL does; a record too big to share a container is emitted alone and raw.
 *
 * The aggregator keeps the record objects given to `add` (they come back as the container's
 * `userRecords`) and references to their data: pass a new object for every record, and modify
 * neither the object nor its data until its container is emitted.
 */
export class RecordAggregator<R extends UserRecordInput = AggregatorUserRecord> {
  readonly maxCount: number;
  readonly maxSize: number;
  private readonly builder = new ContainerBuilder();
  /**
   * The pending record objects by position, handed back as `userRecords` (no object is made per
   * record). Same storage rules as the builder's: capacity kept, slots cleared at emit.
   */
  private readonly records: (R | undefined)[] = [];

  constructor(options: RecordAggregatorOptions = {}) {
    const resolved = resolveRecordAggregatorOptions(options);
    this.maxCount = resolved.maxCount;
    this.maxSize = resolved.maxSize;
  }

  /** User records in the current (unemitted) container. */
  get count(): number {
    return this.builder.count;
  }

  /** Exact length of the data the current container would be emitted with if flushed now (0 when empty). */
  get size(): number {
    const builder = this.builder;
    const count = builder.count;
    if (count === 0) return 0;
    if (count === 1) return builder.dataAt(0).length;
    return builder.encodedSize;
  }

  /**
   * True when the record can join the current container within maxSize (and the container is
   * below maxCount), i.e. `add` would not have to emit the current container first. Validates
   * the record like `add` (throws the same errors). An empty aggregator accepts any record that
   * is not too big to be aggregated at all.
   */
  wouldFit(record: R): boolean {
    const explicitHashKey = validateUserRecordInput(record);
    if (this.builder.count >= this.maxCount) return false;
    return this.builder.sizeWith(record.partitionKey, explicitHashKey, record.data.length) <= this.maxSize;
  }

  /**
   * Adds a user record and returns the containers that became complete, in order: the current
   * one when the record does not fit in it, then the record alone (raw) when it is too big to
   * share any container, or the container the record completed by reaching maxCount. Usually
   * empty: then the same frozen empty array is returned every time (nothing is allocated).
   * Throws InvalidPartitionKeyError / InvalidExplicitHashKeyError / InvalidDataError without
   * changing anything when the record is invalid.
   */
  add(record: R): readonly AggregatedRecord<R>[] {
    const explicitHashKey = validateRecordExceptPartitionKey(record);
    const { partitionKey, data } = record;
    const builder = this.builder;
    const count = builder.count;
    // tryAdd validates the partition key (before changing anything) unless the builder has met it before.
    if (builder.tryAdd(partitionKey, explicitHashKey, data, this.maxSize)) {
      this.keep(count, record);
      return count + 1 >= this.maxCount ? [this.emit()] : NOTHING_EMITTED;
    }
    if (count === 0) return [this.emitAlone(record, partitionKey, explicitHashKey, data)];
    const out = [this.emit()];
    if (builder.tryAdd(partitionKey, explicitHashKey, data, this.maxSize)) {
      this.keep(0, record);
    } else {
      out.push(this.emitAlone(record, partitionKey, explicitHashKey, data));
    }
    return out;
  }

  /** Emits the current container (raw when it holds one record), or undefined when empty. */
  flush(): AggregatedRecord<R> | undefined {
    return this.builder.count === 0 ? undefined : this.emit();
  }

  /**
   * Empties the current container without encoding it and returns its records, the objects given
   * to `add`, in order (empty when nothing is pending). For records that must not go out in this
   * container after all, e.g. the shard it was routed to has closed and they are routed again.
   */
  takePending(): R[] {
    const count = this.builder.count;
    if (count === 0) return [];
    const pending = this.records.slice(0, count) as R[];
    this.clear(count);
    return pending;
  }

  private keep(index: number, record: R): void {
    const records = this.records;
    if (index < records.length) records[index] = record;
    else records.push(record);
  }

  private emit(): AggregatedRecord<R> {
    const builder = this.builder;
    const count = builder.count;
    const records = this.records;
    const result =
      count === 1
        ? this.emitAlone(records[0]!, builder.partitionKeyAt(0), builder.explicitHashKeyAt(0), builder.dataAt(0))
        : {
            partitionKey: AGGREGATED_PARTITION_KEY,
            explicitHashKey: builder.explicitHashKeyAt(0) ?? builder.firstPartitionKeyHashKey(),
            data: builder.encode(),
            aggregated: true,
            userRecords: records.slice(0, count) as R[],
          };
    this.clear(count);
    return result;
  }

  /** Starts the next container: the builder reset, the `count` record slots released. */
  private clear(count: number): void {
    this.builder.reset();
    const records = this.records;
    if (records.length > MAX_RETAINED_RECORDS) records.length = 0;
    else records.fill(undefined, 0, count);
  }

  /**
   * A lone record goes out raw, with the user's partition key and bytes, routed by its own hash key
   * (canonical). The key and data are the ones read at add().
   */
  private emitAlone(record: R, partitionKey: string, explicitHashKey: string | undefined, data: Uint8Array): AggregatedRecord<R> {
    return {
      partitionKey,
      explicitHashKey: explicitHashKey ?? this.builder.hashKeyOf(partitionKey),
      data,
      aggregated: false,
      userRecords: [record],
    };
  }
}

/** `records` keeps its storage between containers up to this many slots. */
const MAX_RETAINED_RECORDS = 65536;

/** What `add` returns when no container was completed: one shared frozen array. */
const NOTHING_EMITTED: readonly never[] = Object.freeze([]);
