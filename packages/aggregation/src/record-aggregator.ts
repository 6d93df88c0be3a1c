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
  /**
   * The pending records' contexts by position. The records themselves live in the builder and
   * become BufferedUserRecord objects only when their container is emitted: objects made one by
   * one as records arrive would each outlive a few hundred add() calls, which the garbage
   * collector charges for. Same storage rules as the builder's: capacity kept, slots cleared.
   */
  private readonly contexts: (T | undefined)[] = [];

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
  wouldFit(record: AggregatorUserRecord<T>): boolean {
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
  add(record: AggregatorUserRecord<T>): readonly AggregatedRecord<T>[] {
    const explicitHashKey = validateRecordExceptPartitionKey(record);
    const { partitionKey, data } = record;
    const builder = this.builder;
    const count = builder.count;
    // tryAdd validates the partition key (before changing anything) unless the builder has met it before.
    if (builder.tryAdd(partitionKey, explicitHashKey, data, this.maxSize)) {
      this.setContext(count, record.context);
      return count + 1 >= this.maxCount ? [this.emit()] : NOTHING_EMITTED;
    }
    if (count === 0) return [this.emitAlone(bufferedRecord(partitionKey, explicitHashKey, data, record.context))];
    const out = [this.emit()];
    if (builder.tryAdd(partitionKey, explicitHashKey, data, this.maxSize)) {
      this.setContext(0, record.context);
    } else {
      out.push(this.emitAlone(bufferedRecord(partitionKey, explicitHashKey, data, record.context)));
    }
    return out;
  }

  /** Emits the current container (raw when it holds one record), or undefined when empty. */
  flush(): AggregatedRecord<T> | undefined {
    return this.builder.count === 0 ? undefined : this.emit();
  }

  private setContext(index: number, context: T | undefined): void {
    const contexts = this.contexts;
    if (index < contexts.length) contexts[index] = context;
    else contexts.push(context);
  }

  private emit(): AggregatedRecord<T> {
    const builder = this.builder;
    const count = builder.count;
    const contexts = this.contexts;
    let result: AggregatedRecord<T>;
    if (count === 1) {
      result = this.emitAlone(bufferedRecord(builder.partitionKeyAt(0), builder.explicitHashKeyAt(0), builder.dataAt(0), contexts[0]));
    } else {
      const userRecords = new Array<BufferedUserRecord<T>>(count);
      for (let i = 0; i < count; i++) {
        userRecords[i] = bufferedRecord(builder.partitionKeyAt(i), builder.explicitHashKeyAt(i), builder.dataAt(i), contexts[i]);
      }
      result = {
        partitionKey: AGGREGATED_PARTITION_KEY,
        explicitHashKey: userRecords[0]!.explicitHashKey ?? builder.firstPartitionKeyHashKey(),
        data: builder.encode(),
        aggregated: true,
        userRecords,
      };
    }
    builder.reset();
    if (contexts.length > MAX_RETAINED_CONTEXTS) contexts.length = 0;
    else contexts.fill(undefined, 0, count);
    return result;
  }

  /** A lone record goes out raw, with the user's partition key, routed by its own hash key. */
  private emitAlone(record: BufferedUserRecord<T>): AggregatedRecord<T> {
    return {
      partitionKey: record.partitionKey,
      explicitHashKey: record.explicitHashKey ?? this.builder.hashKeyOf(record.partitionKey),
      data: record.data,
      aggregated: false,
      userRecords: [record],
    };
  }
}

/** `contexts` keeps its storage between containers up to this many slots. */
const MAX_RETAINED_CONTEXTS = 65536;

/** What `add` returns when no container was completed: one shared frozen array. */
const NOTHING_EMITTED: readonly never[] = Object.freeze([]);

/** One object literal per shape (absent fields are omitted, not undefined): no hidden-class transitions. */
function bufferedRecord<T>(
  partitionKey: string,
  explicitHashKey: string | undefined,
  data: Uint8Array,
  context: T | undefined,
): BufferedUserRecord<T> {
  if (explicitHashKey === undefined) return context === undefined ? { partitionKey, data } : { partitionKey, data, context };
  return context === undefined ? { partitionKey, explicitHashKey, data } : { partitionKey, explicitHashKey, data, context };
}
