/**
 * One shard's records, stored column-wise so millions of small records cost little more than
 * their bytes. Both directions of the API carry data as base64 text and partition keys as JSON
 * strings, so that is how they are kept: the JSON-quoted partition key and the base64 data are
 * copied back to back into large slabs, and a read response is mostly memcpy. Per-record metadata
 * lives in growable typed arrays. A record is addressed by its counter (1, 2, 3, ... in arrival
 * order; see sequence-number.ts). Trimming drops records from the front and releases slabs that
 * no record points into any more.
 */
import { formatWithPrefix, SEQUENCE_NUMBER_LENGTH } from './sequence-number.js';

const MIN_SLAB_BYTES = 16 * 1024;
const MAX_SLAB_BYTES = 4 * 1024 * 1024;
const INITIAL_CAPACITY = 64;

export interface StoredRecord {
  counter: number;
  partitionKey: string;
  data: Buffer;
  /** Arrival time, epoch ms. */
  arrivalMs: number;
}

/**
 * What sits between a record's key and data in the slab: stored as `<key JSON>,"Data":"<base64>`,
 * a record's response text needs one copy from the slab.
 */
const DATA_SEPARATOR = ',"Data":"';
const SEPARATOR_BYTES = DATA_SEPARATOR.length;
const RECORD_HEAD = '{"SequenceNumber":"';
const AFTER_SEQUENCE = '","ApproximateArrivalTimestamp":';
const BEFORE_KEY = ',"PartitionKey":';
/** Longest arrival time text (epoch seconds with a fraction) we reserve room for. */
const MAX_TIMESTAMP_CHARS = 24;
const FIXED_RECORD_CHARS = RECORD_HEAD.length + AFTER_SEQUENCE.length + MAX_TIMESTAMP_CHARS + BEFORE_KEY.length + SEPARATOR_BYTES + 3;

type Latin1Writer = (buf: Buffer, text: string, offset: number) => number;
/** Buffer#latin1Write skips write()'s argument handling; fall back to write() where it is missing. */
const latin1Write: Latin1Writer =
  typeof (Buffer.prototype as unknown as { latin1Write?: unknown }).latin1Write === 'function'
    ? (buf, text, offset) => (buf as unknown as { latin1Write(t: string, o: number): number }).latin1Write(text, offset)
    : (buf, text, offset) => buf.write(text, offset, 'latin1');

export class RecordLog {
  private slabs: (Buffer | undefined)[] = [];
  /** Index in `slabs` of the first slab still referenced. */
  private firstSlab = 0;
  private slabUsed = 0;
  private nextSlabBytes = MIN_SLAB_BYTES;

  private slabOf = new Uint32Array(INITIAL_CAPACITY);
  private offsetOf = new Uint32Array(INITIAL_CAPACITY);
  /** Bytes of the stored JSON-quoted partition key. */
  private keyLenOf = new Uint16Array(INITIAL_CAPACITY);
  /** Chars of the stored base64 data. */
  private dataLenOf = new Uint32Array(INITIAL_CAPACITY);
  /** The record's size as Kinesis counts it: UTF-8 partition key + decoded data bytes. */
  private sizeOf_ = new Uint32Array(INITIAL_CAPACITY);
  private arrivalOf = new Float64Array(INITIAL_CAPACITY);
  /** Array slots [head, tail) hold records; slot `head` holds counter `headCounter`. */
  private head = 0;
  private tail = 0;
  private headCounter = 1;
  private retainedBytes = 0;

  /** Counter of the oldest retained record (== nextCounter when empty). */
  get firstCounter(): number {
    return this.headCounter;
  }

  /** Counter the next appended record gets. */
  get nextCounter(): number {
    return this.headCounter + (this.tail - this.head);
  }

  /** Counter of the newest record ever appended (0 if none). */
  get lastCounter(): number {
    return this.nextCounter - 1;
  }

  get length(): number {
    return this.tail - this.head;
  }

  /** Partition key + data bytes (as Kinesis counts them) retained. */
  get bytes(): number {
    return this.retainedBytes;
  }

  /**
   * Appends a record. `data` is base64 text (already validated) or bytes; `keyBytes` and
   * `dataBytes` are the UTF-8 key length and decoded data length. Returns the record's counter.
   */
  append(partitionKey: string, keyBytes: number, data: string | Uint8Array, dataBytes: number, arrivalMs: number): number {
    const keyJson = JSON.stringify(partitionKey);
    const ascii = keyBytes === partitionKey.length;
    const keyLen = ascii ? keyJson.length : Buffer.byteLength(keyJson, 'utf8');
    const base64 = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
    const stored = keyLen + SEPARATOR_BYTES + base64.length;
    const slabIndex = this.reserve(stored);
    const slab = this.slabs[slabIndex]!;
    const offset = this.slabUsed;
    slab.write(keyJson, offset, keyLen, ascii ? 'latin1' : 'utf8');
    latin1Write(slab, DATA_SEPARATOR, offset + keyLen);
    latin1Write(slab, base64, offset + keyLen + SEPARATOR_BYTES);
    this.slabUsed += stored;

    if (this.tail === this.slabOf.length) this.grow();
    const i = this.tail++;
    this.slabOf[i] = slabIndex;
    this.offsetOf[i] = offset;
    this.keyLenOf[i] = keyLen;
    this.dataLenOf[i] = base64.length;
    this.sizeOf_[i] = keyBytes + dataBytes;
    // Arrival times never go back, so AT_TIMESTAMP can binary-search.
    const prev = i > this.head ? this.arrivalOf[i - 1]! : 0;
    this.arrivalOf[i] = arrivalMs > prev ? arrivalMs : prev;
    this.retainedBytes += keyBytes + dataBytes;
    return this.headCounter + (i - this.head);
  }

  has(counter: number): boolean {
    return counter >= this.headCounter && counter < this.nextCounter;
  }

  arrivalMs(counter: number): number {
    return this.arrivalOf[this.slot(counter)]!;
  }

  /** Partition key bytes + data bytes of one record (what limits count). */
  sizeOf(counter: number): number {
    return this.sizeOf_[this.slot(counter)]!;
  }

  partitionKey(counter: number): string {
    const i = this.slot(counter);
    const start = this.offsetOf[i]!;
    return JSON.parse(this.slabs[this.slabOf[i]!]!.toString('utf8', start, start + this.keyLenOf[i]!)) as string;
  }

  /** The record's data as base64 text (as stored). */
  dataBase64(counter: number): string {
    const i = this.slot(counter);
    const start = this.offsetOf[i]! + this.keyLenOf[i]! + SEPARATOR_BYTES;
    return this.slabs[this.slabOf[i]!]!.toString('latin1', start, start + this.dataLenOf[i]!);
  }

  /** The record's data bytes (decoded; a copy). */
  data(counter: number): Buffer {
    return Buffer.from(this.dataBase64(counter), 'base64');
  }

  get(counter: number): StoredRecord {
    return { counter, partitionKey: this.partitionKey(counter), data: this.data(counter), arrivalMs: this.arrivalMs(counter) };
  }

  /**
   * Where a read from `counter` stops: at most `maxRecords` records and `maxBytes` bytes (but at
   * least one record when there is one). Returns the end counter (exclusive) and the bytes read.
   */
  scan(counter: number, maxRecords: number, maxBytes: number): { to: number; bytes: number } {
    const from = Math.max(counter, this.headCounter);
    const end = Math.min(this.nextCounter, from + maxRecords);
    const base = this.head - this.headCounter;
    let bytes = 0;
    let to = from;
    for (; to < end; to++) {
      const size = this.sizeOf_[base + to]!;
      if (to > from && bytes + size > maxBytes) break;
      bytes += size;
    }
    return { to, bytes };
  }

  /**
   * `head` + records [from, to) as JSON array elements + `tail`, in one buffer: the body of a
   * GetRecords response or a SubscribeToShardEvent. `seqPrefix` is the shard's sequence-number
   * prefix (sequence-number.ts). Per record: one string write, one copy of key and data from the
   * slab, and the closing bytes; arrival times are formatted once per distinct millisecond.
   */
  recordsJson(from: number, to: number, seqPrefix: string, head: string, tail: string, extra = ''): Buffer {
    const n = Math.max(0, to - from);
    if (n > 0) {
      this.slot(from);
      this.slot(to - 1);
    }
    const base = this.head - this.headCounter;
    let size = Buffer.byteLength(head) + Buffer.byteLength(tail) + n * (FIXED_RECORD_CHARS + extra.length + SEQUENCE_NUMBER_LENGTH);
    for (let c = from; c < to; c++) size += this.keyLenOf[base + c]! + this.dataLenOf[base + c]!;
    const out = Buffer.allocUnsafe(size);
    const close = `"${extra}}`;
    let o = out.write(head, 0, 'utf8');
    let lastMs = -1;
    let afterSequence = '';
    for (let c = from; c < to; c++) {
      const i = base + c;
      const ms = this.arrivalOf[i]!;
      if (ms !== lastMs) {
        lastMs = ms;
        afterSequence = `${AFTER_SEQUENCE}${ms / 1000}${BEFORE_KEY}`;
      }
      const start = this.offsetOf[i]!;
      o += latin1Write(out, `${c === from ? '' : ','}${RECORD_HEAD}${formatWithPrefix(seqPrefix, c)}${afterSequence}`, o);
      o += this.slabs[this.slabOf[i]!]!.copy(out, o, start, start + this.keyLenOf[i]! + SEPARATOR_BYTES + this.dataLenOf[i]!);
      o += latin1Write(out, close, o);
    }
    o += out.write(tail, o, 'utf8');
    return out.subarray(0, o);
  }

  /** Counter of the first record that arrived at or after `ms` (nextCounter if none). */
  counterAtTimestamp(ms: number): number {
    let lo = this.head;
    let hi = this.tail;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.arrivalOf[mid]! < ms) lo = mid + 1;
      else hi = mid;
    }
    return this.headCounter + (lo - this.head);
  }

  /** Drops every record that arrived before `ms`; returns how many were dropped. */
  trimBefore(ms: number): number {
    let n = 0;
    while (this.head + n < this.tail && this.arrivalOf[this.head + n]! < ms) n++;
    if (n === 0) return 0;
    for (let i = this.head; i < this.head + n; i++) this.retainedBytes -= this.sizeOf_[i]!;
    this.head += n;
    this.headCounter += n;
    this.releaseSlabs();
    this.compact();
    return n;
  }

  private slot(counter: number): number {
    if (!this.has(counter)) throw new RangeError(`record ${counter} is not retained`);
    return this.head + (counter - this.headCounter);
  }

  /** Makes room for `size` bytes in the current slab (or a new one); returns the slab's index. */
  private reserve(size: number): number {
    const current = this.slabs.length - 1;
    if (current >= this.firstSlab && this.slabs[current] && this.slabUsed + size <= this.slabs[current].length) return current;
    const bytes = Math.max(size, this.nextSlabBytes);
    this.nextSlabBytes = Math.min(MAX_SLAB_BYTES, this.nextSlabBytes * 2);
    this.slabs.push(Buffer.allocUnsafeSlow(bytes));
    this.slabUsed = 0;
    return this.slabs.length - 1;
  }

  private releaseSlabs(): void {
    const keep = this.head < this.tail ? this.slabOf[this.head]! : this.slabs.length - 1;
    for (let s = this.firstSlab; s < keep; s++) this.slabs[s] = undefined;
    if (keep > this.firstSlab) this.firstSlab = keep;
  }

  private columns(): [Uint32Array<ArrayBuffer>, Uint32Array<ArrayBuffer>, Uint16Array<ArrayBuffer>, Uint32Array<ArrayBuffer>, Uint32Array<ArrayBuffer>, Float64Array<ArrayBuffer>] {
    return [this.slabOf, this.offsetOf, this.keyLenOf, this.dataLenOf, this.sizeOf_, this.arrivalOf];
  }

  private grow(): void {
    const capacity = this.slabOf.length * 2;
    const [slab, offset, keyLen, dataLen, size, arrival] = this.columns();
    this.slabOf = copyInto(new Uint32Array(capacity), slab, this.head, this.tail);
    this.offsetOf = copyInto(new Uint32Array(capacity), offset, this.head, this.tail);
    this.keyLenOf = copyInto(new Uint16Array(capacity), keyLen, this.head, this.tail);
    this.dataLenOf = copyInto(new Uint32Array(capacity), dataLen, this.head, this.tail);
    this.sizeOf_ = copyInto(new Uint32Array(capacity), size, this.head, this.tail);
    this.arrivalOf = copyInto(new Float64Array(capacity), arrival, this.head, this.tail);
    this.tail -= this.head;
    this.head = 0;
  }

  /** Shifts the live slots down when more than half of the arrays are trimmed slots. */
  private compact(): void {
    if (this.head < 1024 || this.head < this.slabOf.length / 2) return;
    for (const arr of this.columns()) arr.copyWithin(0, this.head, this.tail);
    this.tail -= this.head;
    this.head = 0;
  }
}

function copyInto<T extends Uint32Array<ArrayBuffer> | Uint16Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(target: T, source: T, from: number, to: number): T {
  target.set(source.subarray(from, to));
  return target;
}
