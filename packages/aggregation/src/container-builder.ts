import { AGGREGATION_FIXED_OVERHEAD, MAGIC_LENGTH, Tag } from './format.js';
import { partitionKeyToHashKey, validatePartitionKey } from './hash-key.js';
import { md5 } from './md5.js';
import { utf8ByteLength } from './utf8.js';
import { varintSize, writeVarint } from './varint.js';

/**
 * Accumulates user records for one aggregated record and keeps its exact encoded size up to date
 * (every record's bytes are fixed when it is added: its key indices never change), so checking a
 * size limit never needs re-encoding. `encode()` writes the whole container into one buffer.
 *
 * Output is byte-identical to the KPL's: key tables de-duplicated in order of first appearance,
 * fields in field-number order, `partition_key_index` always written, `explicit_hash_key_index`
 * only for records that have an explicit hash key.
 *
 * Validation is split for speed: the builder validates a partition key when it first meets it in a
 * container (unless it remembers the key from an earlier one), before changing anything; the caller validates data
 * and passes explicit hash keys already in canonical decimal form (ASCII).
 */
const INITIAL_CAPACITY = 256;

/**
 * What the builder remembers about a partition key across containers, so a key seen before costs
 * one Map lookup: no re-validation, no UTF-8 length, no Map.set. `container` says which container
 * `index` belongs to.
 */
interface KnownPartitionKey {
  byteLength: number;
  container: number;
  index: number;
  /** Decimal MD5 hash key, computed the first time a container is routed by this key. */
  hashKey: string | undefined;
}

/** recordData keeps its storage between containers up to this many slots. */
const MAX_RETAINED_SLOTS = 65536;

/** Beyond this many remembered keys, forget them all at the next container (bounded memory). */
const MAX_KNOWN_PARTITION_KEYS = 8192;
/**
 * Remembering keys pays when they repeat from container to container (a small key space). With
 * mostly new keys (random or per-entity ids) it costs a Map insert and an object per record for
 * nothing, so the builder stops remembering when, in a container built after the memory was
 * filled, under a quarter of its distinct keys were remembered ones; it tries again this many
 * containers later.
 */
const MIN_KEYS_TO_JUDGE = 32;
const REMEMBER_AGAIN_AFTER_CONTAINERS = 64;

export class ContainerBuilder {
  private readonly knownPartitionKeys = new Map<string, KnownPartitionKey>();
  /** Number of the current container, for KnownPartitionKey.container. */
  private container = 0;
  /** Whether keys are remembered across containers (knownPartitionKeys) or only within one (containerKeys). */
  private rememberKeys = true;
  /** Containers built since remembering (re)started, and how many of this container's keys were remembered. */
  private rememberedContainers = 0;
  private rememberedHits = 0;
  /** While not remembering: containers left before trying again. */
  private forgetCountdown = 0;
  /** While not remembering: this container's keys and their indices. */
  private readonly containerKeys = new Map<string, number>();
  /** The key table: keys in order of first appearance and their UTF-8 lengths. */
  private readonly partitionKeyStrings: string[] = [];
  private readonly partitionKeyByteLengths: number[] = [];
  private readonly explicitHashKeyIndex = new Map<string, number>();
  private readonly explicitHashKeys: string[] = [];
  private recordPartitionKeyIndex = new Int32Array(INITIAL_CAPACITY);
  /** -1 where the record has no explicit hash key. */
  private recordExplicitHashKeyIndex = new Int32Array(INITIAL_CAPACITY);
  /**
   * The records' data, `count` of them. Its length is never reduced (emptying an array frees its
   * storage and it would grow again, copy by copy, for every container); slots past `count` are
   * cleared at reset so no user bytes are retained.
   */
  private readonly recordData: (Uint8Array | undefined)[] = [];
  private recordCount = 0;
  /** Bytes of the protobuf AggregatedRecord message. */
  private messageSize = 0;

  get count(): number {
    return this.recordCount;
  }

  /** Exact length of `encode()`'s result (magic + protobuf + MD5). */
  get encodedSize(): number {
    return AGGREGATION_FIXED_OVERHEAD + this.messageSize;
  }

  /** Exact encodedSize after adding the record (nothing is changed). */
  sizeWith(partitionKey: string, explicitHashKey: string | undefined, dataLength: number): number {
    return AGGREGATION_FIXED_OVERHEAD + this.messageSize + this.measure(partitionKey, explicitHashKey, dataLength);
  }

  /**
   * Adds the record if the container's encoded size stays within `maxEncodedSize`; returns
   * false (and changes nothing) otherwise.
   */
  tryAdd(partitionKey: string, explicitHashKey: string | undefined, data: Uint8Array, maxEncodedSize: number): boolean {
    const increment = this.measure(partitionKey, explicitHashKey, data.length);
    if (AGGREGATION_FIXED_OVERHEAD + this.messageSize + increment > maxEncodedSize) return false;
    const pkIndex = this.measuredPartitionKeyIndex;
    if (pkIndex === this.partitionKeyStrings.length) {
      const byteLength = this.measuredPartitionKeyByteLength;
      if (this.rememberKeys) {
        const known = this.measuredPartitionKey;
        if (known === undefined) {
          this.knownPartitionKeys.set(partitionKey, { byteLength, container: this.container, index: pkIndex, hashKey: undefined });
        } else {
          known.container = this.container;
          known.index = pkIndex;
          this.rememberedHits++;
        }
      } else {
        this.containerKeys.set(partitionKey, pkIndex);
      }
      this.partitionKeyStrings.push(partitionKey);
      this.partitionKeyByteLengths.push(byteLength);
    }
    const ehkIndex = this.measuredExplicitHashKeyIndex;
    if (ehkIndex === this.explicitHashKeys.length) {
      this.explicitHashKeyIndex.set(explicitHashKey!, ehkIndex);
      this.explicitHashKeys.push(explicitHashKey!);
    }
    const count = this.recordCount;
    if (count === this.recordPartitionKeyIndex.length) this.grow();
    this.recordPartitionKeyIndex[count] = pkIndex;
    this.recordExplicitHashKeyIndex[count] = ehkIndex;
    const datas = this.recordData;
    if (count < datas.length) datas[count] = data;
    else datas.push(data);
    this.recordCount = count + 1;
    this.messageSize += increment;
    return true;
  }

  /** The partition key of record `index` (< count). */
  partitionKeyAt(index: number): string {
    return this.partitionKeyStrings[this.recordPartitionKeyIndex[index]!]!;
  }

  /** The explicit hash key (canonical) of record `index` (< count), or undefined when it has none. */
  explicitHashKeyAt(index: number): string | undefined {
    const ehkIndex = this.recordExplicitHashKeyIndex[index]!;
    return ehkIndex < 0 ? undefined : this.explicitHashKeys[ehkIndex];
  }

  /** The data of record `index` (< count). */
  dataAt(index: number): Uint8Array {
    return this.recordData[index]!;
  }

  /** Decimal hash key (MD5) of the first record's partition key; the container must not be empty. */
  firstPartitionKeyHashKey(): string {
    return this.hashKeyOf(this.partitionKeyStrings[0]!);
  }

  /** Decimal hash key (MD5) of any partition key, cached for the keys the builder remembers. */
  hashKeyOf(partitionKey: string): string {
    const known = this.rememberKeys ? this.knownPartitionKeys.get(partitionKey) : undefined;
    if (known === undefined) return partitionKeyToHashKey(partitionKey).toString(10);
    return (known.hashKey ??= partitionKeyToHashKey(partitionKey).toString(10));
  }

  /** Writes magic + AggregatedRecord + MD5 into one new buffer. Does not reset. */
  encode(): Buffer {
    const messageEnd = MAGIC_LENGTH + this.messageSize;
    const out = Buffer.allocUnsafe(messageEnd + 16);
    out[0] = 0xf3;
    out[1] = 0x89;
    out[2] = 0x9a;
    out[3] = 0xc2;
    let o = MAGIC_LENGTH;
    const pks = this.partitionKeyStrings;
    for (let i = 0; i < pks.length; i++) {
      const key = pks[i]!;
      const length = this.partitionKeyByteLengths[i]!;
      out[o++] = Tag.PARTITION_KEY_TABLE;
      o = writeVarint(out, o, length);
      o = writeString(out, o, key, length);
    }
    const ehks = this.explicitHashKeys;
    for (let i = 0; i < ehks.length; i++) {
      const key = ehks[i]!;
      out[o++] = Tag.EXPLICIT_HASH_KEY_TABLE;
      o = writeVarint(out, o, key.length);
      o = writeString(out, o, key, key.length);
    }
    const datas = this.recordData;
    const count = this.recordCount;
    const pkIndices = this.recordPartitionKeyIndex;
    const ehkIndices = this.recordExplicitHashKeyIndex;
    let touched = 0;
    for (let i = 0; i < PREFETCH_GROUP && i < count; i++) touched ^= touch(datas[i]!);
    for (let group = 0; group < count; group += PREFETCH_GROUP) {
      const nextEnd = Math.min(count, group + 2 * PREFETCH_GROUP);
      for (let i = group + PREFETCH_GROUP; i < nextEnd; i++) touched ^= touch(datas[i]!);
      const end = Math.min(count, group + PREFETCH_GROUP);
      for (let i = group; i < end; i++) {
        const data = datas[i]!;
        const pkIndex = pkIndices[i]!;
        const ehkIndex = ehkIndices[i]!;
        const dataLength = data.length;
        const recordSize = recordMessageSize(pkIndex, ehkIndex, dataLength);
        out[o++] = Tag.RECORDS;
        if (recordSize < 0x80) out[o++] = recordSize;
        else o = writeVarint(out, o, recordSize);
        out[o++] = Tag.PARTITION_KEY_INDEX;
        if (pkIndex < 0x80) out[o++] = pkIndex;
        else o = writeVarint(out, o, pkIndex);
        if (ehkIndex >= 0) {
          out[o++] = Tag.EXPLICIT_HASH_KEY_INDEX;
          o = writeVarint(out, o, ehkIndex);
        }
        out[o++] = Tag.DATA;
        if (dataLength < 0x80) out[o++] = dataLength;
        else o = writeVarint(out, o, dataLength);
        if (dataLength > 16) {
          out.set(data, o);
          o += dataLength;
        } else {
          for (let j = 0; j < dataLength; j++) out[o++] = data[j]!;
        }
      }
    }
    _prefetchSink = touched;
    if (o !== messageEnd) throw new Error(`internal: aggregated record size ${o} != computed ${messageEnd}`);
    out.set(md5(out.subarray(MAGIC_LENGTH, messageEnd)), messageEnd);
    return out;
  }

  reset(): void {
    this.container++;
    this.adaptKeyMemory();
    if (this.knownPartitionKeys.size > MAX_KNOWN_PARTITION_KEYS) this.knownPartitionKeys.clear();
    this.partitionKeyStrings.length = 0;
    this.partitionKeyByteLengths.length = 0;
    if (this.explicitHashKeys.length > 0) this.explicitHashKeyIndex.clear();
    this.explicitHashKeys.length = 0;
    if (this.recordData.length > MAX_RETAINED_SLOTS) this.recordData.length = 0;
    else this.recordData.fill(undefined, 0, this.recordCount);
    this.recordCount = 0;
    this.messageSize = 0;
  }

  /** See REMEMBER_AGAIN_AFTER_CONTAINERS. Called at reset, with the finished container's key table. */
  private adaptKeyMemory(): void {
    const distinct = this.partitionKeyStrings.length;
    if (this.rememberKeys) {
      if (this.rememberedContainers > 0 && distinct >= MIN_KEYS_TO_JUDGE && this.rememberedHits * 4 < distinct) {
        this.rememberKeys = false;
        this.knownPartitionKeys.clear();
        this.forgetCountdown = REMEMBER_AGAIN_AFTER_CONTAINERS;
      } else if (distinct > 0) {
        this.rememberedContainers++;
      }
      this.rememberedHits = 0;
      return;
    }
    if (distinct > 0) this.containerKeys.clear();
    if (--this.forgetCountdown <= 0) {
      this.rememberKeys = true;
      this.rememberedContainers = 0;
    }
  }

  private grow(): void {
    const capacity = this.recordPartitionKeyIndex.length * 2;
    const pk = new Int32Array(capacity);
    pk.set(this.recordPartitionKeyIndex);
    this.recordPartitionKeyIndex = pk;
    const ehk = new Int32Array(capacity);
    ehk.set(this.recordExplicitHashKeyIndex);
    this.recordExplicitHashKeyIndex = ehk;
  }

  // Results of the last measure() call, kept in fields so measuring allocates nothing.
  private measuredPartitionKey: KnownPartitionKey | undefined = undefined;
  private measuredPartitionKeyIndex = 0;
  private measuredPartitionKeyByteLength = 0;
  private measuredExplicitHashKeyIndex = -1;

  /** Protobuf bytes the record would add: its Record entry plus any new table entries. */
  private measure(partitionKey: string, explicitHashKey: string | undefined, dataLength: number): number {
    let increment = 0;
    let pkIndex = -1;
    let length = -1;
    if (this.rememberKeys) {
      const known = this.knownPartitionKeys.get(partitionKey);
      this.measuredPartitionKey = known;
      if (known !== undefined) {
        if (known.container === this.container) pkIndex = known.index;
        else length = known.byteLength;
      }
    } else {
      pkIndex = this.containerKeys.get(partitionKey) ?? -1;
    }
    if (pkIndex < 0) {
      // New to this container: it adds a key table entry.
      if (length < 0) {
        validatePartitionKey(partitionKey);
        length = utf8ByteLength(partitionKey);
      }
      this.measuredPartitionKeyByteLength = length;
      pkIndex = this.partitionKeyStrings.length;
      increment += 1 + varintSize(length) + length;
    }
    let ehkIndex = -1;
    if (explicitHashKey !== undefined) {
      const known = this.explicitHashKeyIndex.get(explicitHashKey);
      if (known === undefined) {
        ehkIndex = this.explicitHashKeys.length;
        increment += 1 + varintSize(explicitHashKey.length) + explicitHashKey.length;
      } else {
        ehkIndex = known;
      }
    }
    this.measuredPartitionKeyIndex = pkIndex;
    this.measuredExplicitHashKeyIndex = ehkIndex;
    const recordSize = recordMessageSize(pkIndex, ehkIndex, dataLength);
    return increment + 1 + varintSize(recordSize) + recordSize;
  }
}

/**
 * Software prefetch for the copy loop: records' data are usually separate allocations spread over
 * the heap and often cold by the time their container is written, so the copy would wait on
 * memory at every record. Before copying a group of records, the loop reads one byte in every
 * cache line of the next group's records: those loads are independent, so the processor has them
 * all in flight at once and the waits overlap (one record at a time, a few places ahead, overlapped
 * only a record's own two or three lines: a JavaScript load cannot be a non-blocking prefetch).
 * The bytes read are discarded (into _prefetchSink, so the compiler keeps the loads).
 *
 * Every line counts: a 100-byte record that starts late in a line spans three, and reading only
 * its first and last byte left the copy waiting on the middle one. Past PREFETCH_BYTES the
 * hardware's own stream prefetch takes over.
 */
const PREFETCH_GROUP = 8;
const CACHE_LINE_BYTES = 64;
const PREFETCH_BYTES = 256;
let _prefetchSink = 0;

function touch(data: Uint8Array): number {
  const length = data.length;
  if (length === 0) return 0;
  let read = data[0]! ^ data[length - 1]!;
  const end = Math.min(length - 1, PREFETCH_BYTES);
  for (let i = CACHE_LINE_BYTES; i < end; i += CACHE_LINE_BYTES) read ^= data[i]!;
  return read;
}

/** Bytes of one Record message (without its own tag and length prefix). */
function recordMessageSize(pkIndex: number, ehkIndex: number, dataLength: number): number {
  return 1 + varintSize(pkIndex) + (ehkIndex >= 0 ? 1 + varintSize(ehkIndex) : 0) + 1 + varintSize(dataLength) + dataLength;
}

/** Short ASCII strings are faster to copy by hand than through Buffer#write. */
function writeString(out: Buffer, offset: number, value: string, byteLength: number): number {
  if (byteLength === value.length && byteLength <= 32) {
    for (let i = 0; i < byteLength; i++) out[offset + i] = value.charCodeAt(i);
    return offset + byteLength;
  }
  return offset + out.write(value, offset, byteLength, 'utf8');
}
