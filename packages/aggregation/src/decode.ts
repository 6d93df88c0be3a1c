/**
 * A hand-written decoder for the protobuf `AggregatedRecord` message (three tiny proto2
 * messages), several times faster than a generic decoder because it builds no intermediate
 * message objects. It accepts and rejects exactly what protobufjs 8 does with the same schema
 * (decode.test.ts checks this against protobufjs on mutated inputs):
 * - a known field with an unexpected wire type is skipped as an unknown field;
 * - unknown fields are skipped (varint, fixed64, LEN, groups with matching end tags, fixed32);
 * - field number 0, wire types 4/6/7 outside a group, truncation, over-long varints (tags and
 *   lengths over 5 bytes or 32/31 bits, values over 10 bytes),
 *   nested messages not ending exactly at their length, and groups nested deeper than 100 fail;
 * - `Record` needs partition_key_index and data, `Tag` needs key (proto2 `required`);
 * - repeated scalar fields: the last occurrence wins.
 * Tags are validated but not returned (the KPL never writes them; the KCL ignores them).
 * Checking indices against the key tables is the caller's job (see deaggregate.ts).
 */

/** The parsed message. `records` is scratch memory, valid until the next decode call. */
export interface DecodedAggregatedRecord {
  partitionKeyTable: string[];
  explicitHashKeyTable: string[];
  /** Number of Record entries. */
  count: number;
  /**
   * Four numbers per record: partition_key_index, explicit_hash_key_index (-1 when absent),
   * data start and data end (offsets into the decoded buffer). Indices >= 2^53 are approximate
   * (they are out of any table's range anyway).
   */
  records: Float64Array;
}

export const RECORD_STRIDE = 4;

const RECURSION_LIMIT = 100;

/** Thrown internally on malformed input and caught in decodeAggregatedRecordMessage. */
const MALFORMED = new Error('malformed AggregatedRecord');

let scratch = new Float64Array(RECORD_STRIDE * 1024);

// Reader state: module-level because decoding is synchronous and never re-entered.
let buf: Buffer = Buffer.alloc(0);
let pos = 0;

/**
 * Parses the AggregatedRecord protobuf in `buffer[start, end)`. Returns undefined when the bytes
 * are not a valid message.
 */
export function decodeAggregatedRecordMessage(buffer: Buffer, start: number, end: number): DecodedAggregatedRecord | undefined {
  buf = buffer;
  pos = start;
  const partitionKeyTable: string[] = [];
  const explicitHashKeyTable: string[] = [];
  let count = 0;
  try {
    while (pos < end) {
      // One-byte tags (every field the KPL writes) without a call.
      let tag = buf[pos]!;
      if (tag < 0x80) pos++;
      else tag = readTag(end);
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (wireType === 2 && field >= 1 && field <= 3) {
        const length = readLength(end);
        const valueEnd = pos + length;
        if (valueEnd > end) throw MALFORMED;
        if (field === 3) {
          if (scratch.length < (count + 1) * RECORD_STRIDE) grow();
          readRecord(valueEnd, count * RECORD_STRIDE);
          count++;
        } else {
          (field === 1 ? partitionKeyTable : explicitHashKeyTable).push(readKeyString(pos, valueEnd));
          pos = valueEnd;
        }
      } else {
        skipField(wireType, field, 0, end);
      }
    }
  } catch (err) {
    if (err === MALFORMED) return undefined;
    throw err;
  } finally {
    buf = EMPTY;
  }
  return { partitionKeyTable, explicitHashKeyTable, count, records: scratch };
}

const EMPTY = Buffer.alloc(0);

/** Reads one Record message ending at `end` into scratch[at..at+3]. */
function readRecord(end: number, at: number): void {
  if (readKplRecord(end, at)) return;
  let pkIndex = -1;
  let ehkIndex = -1;
  let dataStart = -1;
  let dataEnd = -1;
  while (pos < end) {
    const tag = readTag(end);
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1 && wireType === 0) {
      pkIndex = readVarint64(end);
    } else if (field === 3 && wireType === 2) {
      const length = readLength(end);
      dataStart = pos;
      dataEnd = pos + length;
      if (dataEnd > end) throw MALFORMED;
      pos = dataEnd;
    } else if (field === 2 && wireType === 0) {
      ehkIndex = readVarint64(end);
    } else if (field === 4 && wireType === 2) {
      const length = readLength(end);
      const tagEnd = pos + length;
      if (tagEnd > end) throw MALFORMED;
      readTagMessage(tagEnd);
    } else {
      skipField(wireType, field, 1, end);
    }
  }
  if (pkIndex < 0 || dataStart < 0) throw MALFORMED;
  scratch[at] = pkIndex;
  scratch[at + 1] = ehkIndex;
  scratch[at + 2] = dataStart;
  scratch[at + 3] = dataEnd;
}

/**
 * The layout the KPL (and every encoder we know) writes: `08 <pk index> [10 <ehk index>] 1A <length>
 * <data>` and nothing else, indices below 128 and a length below 2^21. Reads it with a few byte
 * compares instead of the generic field loop; returns false, having consumed nothing, for
 * anything else (the generic loop then decides, so what is accepted does not change).
 */
function readKplRecord(end: number, at: number): boolean {
  const bytes = buf;
  let p = pos;
  if (p + 4 > end || bytes[p] !== 0x08) return false;
  const pkIndex = bytes[p + 1]!;
  if (pkIndex >= 0x80) return false;
  p += 2;
  let ehkIndex = -1;
  if (bytes[p] === 0x10) {
    if (p + 4 > end) return false;
    ehkIndex = bytes[p + 1]!;
    if (ehkIndex >= 0x80) return false;
    p += 2;
  }
  if (bytes[p] !== 0x1a) return false;
  let b = bytes[++p]!;
  let length = b & 0x7f;
  p++;
  if (b >= 0x80) {
    if (p >= end) return false;
    b = bytes[p++]!;
    length |= (b & 0x7f) << 7;
    if (b >= 0x80) {
      if (p >= end) return false;
      b = bytes[p++]!;
      if (b >= 0x80) return false;
      length |= b << 14;
    }
  }
  if (p + length !== end) return false;
  scratch[at] = pkIndex;
  scratch[at + 1] = ehkIndex;
  scratch[at + 2] = p;
  scratch[at + 3] = end;
  pos = end;
  return true;
}

/** Validates one Tag message (required string key, optional string value) ending at `end`. */
function readTagMessage(end: number): void {
  let hasKey = false;
  while (pos < end) {
    const tag = readTag(end);
    const field = tag >>> 3;
    const wireType = tag & 7;
    if ((field === 1 || field === 2) && wireType === 2) {
      const length = readLength(end);
      if (pos + length > end) throw MALFORMED;
      pos += length;
      if (field === 1) hasKey = true;
    } else {
      skipField(wireType, field, 2, end);
    }
  }
  if (!hasKey) throw MALFORMED;
}

/** Skips an unknown field's value, as protobufjs' Reader#skipType does. */
function skipField(wireType: number, field: number, depth: number, end: number): void {
  if (depth > RECURSION_LIMIT || field === 0) throw MALFORMED;
  switch (wireType) {
    case 0:
      // Like protobufjs, no length limit when skipping a varint.
      do {
        if (pos >= end) throw MALFORMED;
      } while (buf[pos++]! & 0x80);
      return;
    case 1:
      if (pos + 8 > end) throw MALFORMED;
      pos += 8;
      return;
    case 2: {
      const length = readLength(end);
      if (pos + length > end) throw MALFORMED;
      pos += length;
      return;
    }
    case 3:
      for (;;) {
        const tag = readTag(end);
        const nestedField = tag >>> 3;
        const nestedWireType = tag & 7;
        if (nestedField === 0) throw MALFORMED;
        if (nestedWireType === 4) {
          if (nestedField !== field) throw MALFORMED;
          return;
        }
        skipField(nestedWireType, nestedField, depth + 1, end);
      }
    case 5:
      if (pos + 4 > end) throw MALFORMED;
      pos += 4;
      return;
    default:
      throw MALFORMED;
  }
}

/**
 * A length prefix: a varint of at most 5 bytes below 2^31 (protobufjs' Reader#size rejects a
 * fifth byte above 7; protobuf-java rejects negative sizes).
 */
function readLength(end: number): number {
  return readVarint32(end, 7);
}

/** A tag: a varint of at most 5 bytes that fits in 32 bits (protobufjs 8 rejects anything longer). */
function readTag(end: number): number {
  return readVarint32(end, 0x0f);
}

/** A varint of at most 5 bytes whose fifth byte (bits 28 and up) is at most `maxFifthByte`, unsigned. */
function readVarint32(end: number, maxFifthByte: number): number {
  if (pos >= end) throw MALFORMED;
  let b = buf[pos++]!;
  if (b < 0x80) return b;
  let value = b & 0x7f;
  for (let shift = 7; shift < 28; shift += 7) {
    if (pos >= end) throw MALFORMED;
    b = buf[pos++]!;
    value |= (b & 0x7f) << shift;
    if (b < 0x80) return value >>> 0;
  }
  if (pos >= end) throw MALFORMED;
  b = buf[pos++]!;
  if (b > maxFifthByte) throw MALFORMED;
  return (value | (b << 28)) >>> 0;
}

/** A uint64 varint (at most 10 bytes, modulo 2^64) as a number; exact below 2^53. */
function readVarint64(end: number): number {
  if (pos >= end) throw MALFORMED;
  let b = buf[pos++]!;
  if (b < 0x80) return b;
  let lo = b & 0x7f;
  let hi = 0;
  for (let shift = 7; shift < 28; shift += 7) {
    if (pos >= end) throw MALFORMED;
    b = buf[pos++]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) return lo >>> 0;
  }
  if (pos >= end) throw MALFORMED;
  b = buf[pos++]!;
  lo = (lo | ((b & 0x7f) << 28)) >>> 0;
  hi = (b & 0x7f) >> 4;
  if (b < 0x80) return lo + hi * 0x100000000;
  for (let shift = 3; shift <= 31; shift += 7) {
    if (pos >= end) throw MALFORMED;
    b = buf[pos++]!;
    hi = (hi | ((b & 0x7f) << shift)) >>> 0;
    if (b < 0x80) return lo + hi * 0x100000000;
  }
  throw MALFORMED;
}

/**
 * Key tables repeat from container to container and creating a string natively costs ~100 ns, so
 * short keys go through a small cache indexed by their length and a few of their bytes, verified
 * byte by byte on a hit (which can only match ASCII: any other byte decodes to a different code
 * unit). Misses are decoded as UTF-8 (invalid sequences become U+FFFD).
 */
const KEY_CACHE_SIZE = 4096;
const MAX_CACHED_KEY_BYTES = 64;
const keyCache: (string | undefined)[] = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);

function readKeyString(start: number, end: number): string {
  const bytes = buf;
  const length = end - start;
  if (length === 0) return '';
  if (length > MAX_CACHED_KEY_BYTES) return bytes.toString('utf8', start, end);
  // Hash the length, the first byte and the last (up to) 8 bytes: keys tend to differ at the end.
  let hash = Math.imul(length ^ (bytes[start]! << 8), 0x9e3779b1);
  for (let i = length > 8 ? end - 8 : start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  const slot = (hash ^ (hash >>> 15)) & (KEY_CACHE_SIZE - 1);
  const cached = keyCache[slot];
  if (cached !== undefined && cached.length === length) {
    let i = 0;
    while (i < length && cached.charCodeAt(i) === bytes[start + i]) i++;
    if (i === length) return cached;
  }
  const decoded = bytes.toString('utf8', start, end);
  if (decoded.length === length) keyCache[slot] = decoded;
  return decoded;
}

function grow(): void {
  const next = new Float64Array(scratch.length * 2);
  next.set(scratch);
  scratch = next;
}
