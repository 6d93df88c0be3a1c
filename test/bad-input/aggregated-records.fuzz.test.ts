/**
 * Bad input, everywhere: KPL aggregated records that are not what they claim to be.
 *
 * deaggregate/deaggregateWithReport must never throw on record contents and never drop a record:
 * the result is either the container's sub-records (aggregated: true, subSequenceNumber 0..n-1,
 * every data view inside the container) or the Kinesis record passed through whole
 * (aggregated: false, the input bytes, subSequenceNumber 0). The only empty result allowed is a
 * container discarded as out of the shard's hash range (discardedOutOfRange = its record count).
 */
import { createHash } from 'node:crypto';
import {
  AGGREGATED_RECORD_MAGIC,
  deaggregate,
  deaggregateWithReport,
  encodeAggregatedRecord,
  type DeaggregateOptions,
  type DeaggregationReport,
  type UserRecordInput,
} from '@kinesis-kit/aggregation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const SEQ = '49590338271490256608559692538361571095921575989136588898';
const MAGIC = Uint8Array.from(AGGREGATED_RECORD_MAGIC);
const SEED = 20261123;

function md5(bytes: Uint8Array): Uint8Array {
  return createHash('md5').update(bytes).digest();
}

/** magic + protobuf + MD5(protobuf): a container that "still checksums", whatever the protobuf holds. */
function container(protobuf: Uint8Array): Uint8Array {
  return Buffer.concat([MAGIC, protobuf, md5(protobuf)]);
}

/** The protobuf part of an encoded container. */
function protobufOf(encoded: Uint8Array): Uint8Array {
  return encoded.subarray(4, encoded.length - 16);
}

const sdk = (data: Uint8Array) => ({ Data: data, PartitionKey: 'outer-key', SequenceNumber: SEQ, ApproximateArrivalTimestamp: new Date(1_700_000_000_000) });

// ---- protobuf writer for hand-made (wrong) messages -----------------------------------------------

function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

/** A varint of exactly `bytes` bytes (over-long encodings included: 0x80 0x80 ... 0x00). */
function paddedVarint(value: number, bytes: number): number[] {
  const out = varint(BigInt(value));
  while (out.length < bytes) {
    out[out.length - 1]! |= 0x80;
    out.push(0);
  }
  return out;
}

const tag = (field: number, wire: number): number[] => varint(BigInt((field << 3) | wire));
const len = (field: number, body: number[]): number[] => [...tag(field, 2), ...varint(BigInt(body.length)), ...body];
const str = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const record = (pk: number, data: number[], ehk?: number): number[] => [
  ...tag(1, 0),
  ...varint(BigInt(pk)),
  ...(ehk === undefined ? [] : [...tag(2, 0), ...varint(BigInt(ehk))]),
  ...len(3, data),
];

// ---- the invariant ---------------------------------------------------------------------------------

/** Checks "never dropped": sub-records in order, or the input passed through whole. */
function expectNothingDropped(input: Uint8Array, report: DeaggregationReport, options: DeaggregateOptions = {}): void {
  if (!report.aggregated) {
    expect(report.records).toHaveLength(1);
    const [r] = report.records;
    expect(Buffer.from(r!.data).equals(Buffer.from(input))).toBe(true);
    expect(r).toMatchObject({ partitionKey: 'outer-key', sequenceNumber: SEQ, subSequenceNumber: 0, aggregated: false });
    expect(report.discardedOutOfRange).toBe(0);
    return;
  }
  expect(report.checksumMismatch).toBe(false);
  expect(report.malformed).toBe(false);
  if (report.records.length === 0) {
    // Only a hash range check may empty a container, and then it says how many it discarded.
    expect(options.hashKeyRange).toBeDefined();
    expect(report.discardedOutOfRange).toBeGreaterThan(0);
    return;
  }
  expect(report.discardedOutOfRange).toBe(0);
  const base = input.byteOffset;
  report.records.forEach((r, i) => {
    expect(r.subSequenceNumber).toBe(i); // increasing, from 0, no gap
    expect(r.sequenceNumber).toBe(SEQ);
    expect(r.aggregated).toBe(true);
    expect(typeof r.partitionKey).toBe('string');
    // A view into the container's protobuf bytes, never past them.
    if (r.data.buffer === input.buffer) {
      expect(r.data.byteOffset).toBeGreaterThanOrEqual(base + 4);
      expect(r.data.byteOffset + r.data.byteLength).toBeLessThanOrEqual(base + input.length - 16);
    } else {
      expect(r.data.byteLength).toBeLessThanOrEqual(input.length);
    }
  });
}

function run(input: Uint8Array, options: DeaggregateOptions = {}): DeaggregationReport {
  let report: DeaggregationReport | undefined;
  expect(() => {
    report = deaggregateWithReport(sdk(input), options);
  }).not.toThrow();
  expectNothingDropped(input, report!, options);
  // deaggregate is the same records, also without throwing.
  expect(deaggregate(sdk(input), options)).toHaveLength(report!.records.length);
  return report!;
}

// ---- arbitraries -------------------------------------------------------------------------------

const userRecord: fc.Arbitrary<UserRecordInput> = fc.record(
  {
    partitionKey: fc.oneof(fc.constantFrom('a', 'pk-1', 'ü', '😀'), fc.string({ minLength: 1, maxLength: 12 })),
    explicitHashKey: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((n) => n.toString()),
    data: fc.uint8Array({ maxLength: 40 }),
  },
  { requiredKeys: ['partitionKey', 'data'] },
);
const validContainer = fc.array(userRecord, { minLength: 1, maxLength: 8 }).map((records) => ({ records, bytes: encodeAggregatedRecord(records) }));
const hashKeyRange = fc.option(
  fc.tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })).map(([a, b]) => ({
    startingHashKey: (a < b ? a : b).toString(),
    endingHashKey: (a < b ? b : a).toString(),
  })),
  { nil: undefined },
);
const optionsArb = fc.record({ hashKeyRange, verifyChecksum: fc.constantFrom(true, false, undefined) }).map((o) => {
  const out: DeaggregateOptions = {};
  if (o.hashKeyRange) out.hashKeyRange = o.hashKeyRange;
  if (o.verifyChecksum !== undefined) out.verifyChecksum = o.verifyChecksum;
  return out;
});

describe('bad input: aggregated records, fuzzed', () => {
  it('random bytes after the magic (with a bad or a matching MD5) never throw and never drop the record', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 120 }), fc.boolean(), optionsArb, (tail, checksummed, options) => {
        const input = checksummed ? container(tail) : Buffer.concat([MAGIC, tail]);
        run(input, options);
      }),
      { numRuns: 600, seed: SEED },
    );
  });

  it('every truncation of a valid container passes the record through whole', () => {
    fc.assert(
      fc.property(validContainer, fc.nat(), (c, at) => {
        const cut = at % c.bytes.length; // strictly shorter than the container
        const input = c.bytes.slice(0, cut);
        const report = run(input);
        expect(report.aggregated).toBe(false);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('bit flips anywhere in a valid container: sub-records or the record whole, never an exception', () => {
    fc.assert(
      fc.property(validContainer, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }), optionsArb, (c, flips, options) => {
        const input = Uint8Array.from(c.bytes);
        for (const [at, bit] of flips) input[at % input.length]! ^= 1 << bit;
        const report = run(input, options);
        // A flip in the magic makes it a plain record; a flip in the protobuf or the MD5 breaks the checksum.
        if (options.verifyChecksum !== false && !Buffer.from(input).equals(Buffer.from(c.bytes))) expect(report.aggregated).toBe(false);
      }),
      { numRuns: 400, seed: SEED },
    );
  });

  it('bit flips, byte edits and splices inside the protobuf, re-checksummed: decodes in order or passes through', () => {
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 6 }) }),
    );
    let decoded = 0;
    fc.assert(
      fc.property(validContainer, fc.array(edit, { minLength: 1, maxLength: 3 }), optionsArb, (c, edits, options) => {
        let pb = [...protobufOf(c.bytes)];
        for (const e of edits) {
          const at = pb.length === 0 ? 0 : e.at % pb.length;
          if (e.kind === 'flip') pb[at] = (pb[at] ?? 0) ^ (1 << e.bit);
          else if (e.kind === 'set') pb[at] = e.value;
          else if (e.kind === 'insert') pb.splice(at, 0, ...e.bytes);
          else pb = [...pb.slice(0, at), ...pb.slice(at + e.count)];
        }
        const report = run(container(Uint8Array.from(pb)), options);
        if (report.aggregated) decoded++;
      }),
      { numRuns: 600, seed: SEED },
    );
    // The property is not vacuous: many edited containers still decode (e.g. edits inside data bytes).
    // (33 with this seed: an edit inside an explicit hash key the records use makes the container
    // malformed, passed through whole, rather than decoded with a garbage key.)
    expect(decoded).toBeGreaterThan(20);
  });

  it('a valid container re-read yields exactly its records, in order, with subSequenceNumber 0..n-1', () => {
    fc.assert(
      fc.property(validContainer, (c) => {
        const report = run(c.bytes);
        expect(report.aggregated).toBe(true);
        expect(report.records.map((r) => [r.partitionKey, r.explicitHashKey, Buffer.from(r.data).toString('hex')])).toEqual(
          c.records.map((r) => [r.partitionKey, r.explicitHashKey, Buffer.from(r.data).toString('hex')]),
        );
      }),
      { numRuns: 100, seed: SEED },
    );
  });

  // Hand-made protobufs with the right magic and MD5 but the wrong shape.
  const PK_TABLE = len(1, str('pk'));
  const handMade: [string, number[], 'pass-through' | 'decodes'][] = [
    ['only a partition key table', PK_TABLE, 'pass-through'],
    ['partition_key_table as a varint (wrong wire type: skipped, then index 0 is out of range)', [...tag(1, 0), 5, ...len(3, record(0, [1]).slice())], 'pass-through'],
    ['records as a varint instead of a message', [...PK_TABLE, ...tag(3, 0), 7], 'pass-through'],
    ['records as fixed64', [...PK_TABLE, ...tag(3, 1), 1, 2, 3, 4, 5, 6, 7, 8], 'pass-through'],
    ['records as fixed32', [...PK_TABLE, ...tag(3, 5), 1, 2, 3, 4], 'pass-through'],
    ['a record without data (required)', [...PK_TABLE, ...len(3, [...tag(1, 0), 0])], 'pass-through'],
    ['a record without partition_key_index (required)', [...PK_TABLE, ...len(3, len(3, [1, 2]))], 'pass-through'],
    ['partition_key_index as LEN', [...PK_TABLE, ...len(3, [...len(1, [0]), ...len(3, [1])])], 'pass-through'],
    ['data as a varint', [...PK_TABLE, ...len(3, [...tag(1, 0), 0, ...tag(3, 0), 9])], 'pass-through'],
    ['partition_key_index out of the table', [...PK_TABLE, ...len(3, record(1, [1]))], 'pass-through'],
    ['explicit_hash_key_index with no explicit hash key table', [...PK_TABLE, ...len(3, record(0, [1], 0))], 'pass-through'],
    ['partition_key_index 2^53-1 (8-byte varint)', [...PK_TABLE, ...len(3, record(Number.MAX_SAFE_INTEGER, [1]))], 'pass-through'],
    ['huge varint index 2^64-1', [...PK_TABLE, ...len(3, [...tag(1, 0), ...varint((1n << 64n) - 1n), ...len(3, [1])])], 'pass-through'],
    ['over-long varint (11 bytes)', [...PK_TABLE, ...len(3, [...tag(1, 0), ...paddedVarint(0, 11), ...len(3, [1])])], 'pass-through'],
    ['length varint of 2^32 (past the end)', [...PK_TABLE, ...tag(3, 2), ...varint(1n << 32n), 0], 'pass-through'],
    ['length past the end of the message', [...PK_TABLE, ...tag(3, 2), 50, ...record(0, [1])], 'pass-through'],
    ['nested record longer than its length says', [...PK_TABLE, ...tag(3, 2), 3, ...record(0, [1, 2, 3])], 'pass-through'],
    ['field number 0', [...PK_TABLE, 0x00, 0, ...len(3, record(0, [1]))], 'pass-through'],
    ['wire type 7', [...PK_TABLE, ...len(3, record(0, [1])), 0x0f], 'pass-through'],
    ['an unterminated group', [...PK_TABLE, ...tag(9, 3), ...len(3, record(0, [1]))], 'pass-through'],
    ['truncated tag varint', [...PK_TABLE, ...len(3, record(0, [1])), 0x80], 'pass-through'],
    ['over-long padded index (5 bytes, value 0) is still a valid varint', [...PK_TABLE, ...len(3, [...tag(1, 0), ...paddedVarint(0, 5), ...len(3, [7])])], 'decodes'],
    ['unknown fields of every wire type around a valid record', [...tag(7, 0), 1, ...tag(8, 1), 1, 2, 3, 4, 5, 6, 7, 8, ...tag(9, 5), 1, 2, 3, 4, ...len(10, [1]), ...PK_TABLE, ...len(3, record(0, [42]))], 'decodes'],
    ['a known field with the wrong wire type next to valid ones (skipped as unknown)', [...tag(2, 0), 3, ...PK_TABLE, ...len(3, record(0, [42]))], 'decodes'],
    ['a record whose data is 0 bytes', [...PK_TABLE, ...len(3, record(0, []))], 'decodes'],
  ];

  it.each(handMade)('%s: never throws, never drops', (_name, protobuf, expected) => {
    const input = container(Uint8Array.from(protobuf));
    const report = run(input);
    expect(report.aggregated).toBe(expected === 'decodes');
    if (expected === 'pass-through') expect(report.malformed).toBe(true);
  });

  it('magic and MD5 with nothing between them (exactly 20 bytes) is a plain record', () => {
    const input = container(new Uint8Array(0));
    expect(input.length).toBe(20);
    const report = run(input);
    expect(report).toMatchObject({ aggregated: false, malformed: false, checksumMismatch: false });
  });
});
