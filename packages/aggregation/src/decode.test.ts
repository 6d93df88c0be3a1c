import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAggregatedRecordMessage, RECORD_STRIDE } from './decode.js';
import { referenceDecode, referenceEncode, type ReferenceMessage } from './protobuf-reference.test-helpers.js';
import { VECTOR_1, VECTOR_2 } from './test-vectors.test-helpers.js';

// --- a tiny protobuf writer for hand-made and random wire bytes ---------------------------------
const bytes = (...parts: (Uint8Array | number[])[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));
function varint(value: bigint | number): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
const tag = (field: number, wireType: number) => varint(field * 8 + wireType);
const len = (field: number, body: Uint8Array | number[]) => bytes(tag(field, 2), varint(body.length), body);
const str = (field: number, s: string) => len(field, Buffer.from(s));
const record = (...fields: (Uint8Array | number[])[]) => len(3, bytes(...fields));

/** Our decoder's output in the reference shape. */
function ours(buffer: Uint8Array): ReferenceMessage | undefined {
  const b = Buffer.from(buffer);
  const decoded = decodeAggregatedRecordMessage(b, 0, b.length);
  if (decoded === undefined) return undefined;
  const records: ReferenceMessage['records'] = [];
  for (let i = 0; i < decoded.count; i++) {
    const at = i * RECORD_STRIDE;
    const ehk = decoded.records[at + 1]!;
    records.push({
      partitionKeyIndex: decoded.records[at]!,
      ...(ehk >= 0 ? { explicitHashKeyIndex: ehk } : {}),
      data: b.subarray(decoded.records[at + 2], decoded.records[at + 3]),
    });
  }
  return { partitionKeyTable: decoded.partitionKeyTable, explicitHashKeyTable: decoded.explicitHashKeyTable, records };
}

function normalise(m: ReferenceMessage | undefined) {
  return m && { ...m, records: m.records.map((r) => ({ ...r, data: Buffer.from(r.data).toString('hex') })) };
}

function expectAgreement(buffer: Uint8Array) {
  const expected = referenceDecode(buffer);
  const actual = ours(buffer);
  expect(actual === undefined, `accept/reject differs for ${Buffer.from(buffer).toString('hex')}`).toBe(expected === undefined);
  expect(normalise(actual)).toEqual(normalise(expected));
}

// --- random wire bytes: valid pieces, unknown fields, wrong wire types, groups, garbage ---------
const smallIndex = fc.oneof(fc.nat({ max: 5 }), fc.constantFrom(127, 128, 16384, 2 ** 32, 2 ** 53 - 1), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const unknownField = (fieldNumbers: fc.Arbitrary<number>): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.tuple(fieldNumbers, smallIndex).map(([f, v]) => bytes(tag(f, 0), varint(v))),
    fc.tuple(fieldNumbers, fc.uint8Array({ minLength: 8, maxLength: 8 })).map(([f, v]) => bytes(tag(f, 1), v)),
    fc.tuple(fieldNumbers, fc.uint8Array({ maxLength: 6 })).map(([f, v]) => len(f, v)),
    fc.tuple(fieldNumbers, fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([f, v]) => bytes(tag(f, 5), v)),
    fc.tuple(fieldNumbers, fc.nat({ max: 3 })).map(([f, v]) => bytes(tag(f, 3), tag(9, 0), varint(v), tag(f, 4))),
  );
const tagMessage = fc.oneof(
  fc.tuple(fc.string({ maxLength: 4 }), fc.option(fc.string({ maxLength: 4 }))).map(([k, v]) => len(4, bytes(str(1, k), v === null ? [] : str(2, v)))),
  fc.string({ maxLength: 4 }).map((v) => len(4, str(2, v))), // no key: Tag is invalid
);
const recordField = fc.oneof(
  { weight: 4, arbitrary: smallIndex.map((v) => bytes(tag(1, 0), varint(v))) },
  { weight: 2, arbitrary: smallIndex.map((v) => bytes(tag(2, 0), varint(v))) },
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 10 }).map((d) => len(3, d)) },
  { weight: 1, arbitrary: tagMessage },
  { weight: 2, arbitrary: unknownField(fc.integer({ min: 1, max: 6 })) }, // includes known numbers with wrong wire types
);
const topLevelField = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }).map((s) => str(1, s)) },
  { weight: 1, arbitrary: fc.constantFrom('0', '999').map((s) => str(2, s)) },
  { weight: 5, arbitrary: fc.array(recordField, { maxLength: 5 }).map((fields) => record(...fields)) },
  { weight: 2, arbitrary: unknownField(fc.integer({ min: 1, max: 20 })) },
);
const message = fc.array(topLevelField, { maxLength: 8 }).map((fields) => bytes(...fields));

/** Damage: flip a byte, truncate, insert or append random bytes. */
const mutated = fc
  .tuple(message, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'truncate', 'insert', 'append', 'none'), fc.uint8Array({ maxLength: 4 }))
  .map(([m, position, value, kind, extra]) => {
    const at = m.length === 0 ? 0 : position % m.length;
    switch (kind) {
      case 'flip':
        return m.length === 0 ? m : bytes(m.subarray(0, at), [value], m.subarray(at + 1));
      case 'truncate':
        return m.subarray(0, at);
      case 'insert':
        return bytes(m.subarray(0, at), extra, m.subarray(at));
      case 'append':
        return bytes(m, extra);
      default:
        return m;
    }
  });

describe('decodeAggregatedRecordMessage', () => {
  it('decodes both kpl.md test vectors', () => {
    for (const v of [VECTOR_1, VECTOR_2]) {
      const b = Buffer.from(v.hex, 'hex');
      expectAgreement(b.subarray(4, b.length - 16));
    }
    const b = Buffer.from(VECTOR_2.hex, 'hex');
    expect(ours(b.subarray(4, b.length - 16))).toEqual({
      partitionKeyTable: ['a', 'b'],
      explicitHashKeyTable: ['999'],
      records: [
        { partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: Buffer.from('x') },
        { partitionKeyIndex: 1, data: Buffer.from('y') },
      ],
    });
  });

  it('agrees with protobufjs 8 on random valid messages', () => {
    const valid = fc.record({
      partitionKeyTable: fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { maxLength: 5 }),
      explicitHashKeyTable: fc.array(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map(String), { maxLength: 3 }),
      records: fc.array(
        fc.record(
          { partitionKeyIndex: fc.nat({ max: 300 }), explicitHashKeyIndex: fc.nat({ max: 300 }), data: fc.uint8Array({ maxLength: 200 }) },
          { requiredKeys: ['partitionKeyIndex', 'data'] },
        ),
        { maxLength: 10 },
      ),
    });
    fc.assert(fc.property(valid, (m) => expectAgreement(referenceEncode(m))), { numRuns: 300 });
  });

  it('accepts and rejects exactly what protobufjs 8 does on random and damaged wire bytes', () => {
    fc.assert(fc.property(mutated, expectAgreement), { numRuns: 3000 });
  });

  it('agrees with protobufjs 8 on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), expectAgreement), { numRuns: 3000 });
  });

  describe.each([
    ['a Record without partition_key_index', record(len(3, [1]))],
    ['a Record without data', record(tag(1, 0), [0])],
    ['partition_key_index sent as LEN (skipped as unknown, so missing)', record(len(1, [0]), len(3, [1]))],
    ['data sent as a varint (skipped, so missing)', record(tag(1, 0), [0], tag(3, 0), [1])],
    ['a Tag without its required key', record(tag(1, 0), [0], len(3, [1]), len(4, str(2, 'v')))],
    ['field number 0', bytes(tag(0, 0), [1])],
    ['wire type 6', bytes([0x0e, 0])],
    ['wire type 7', bytes([0x0f, 0])],
    ['a stray end-group tag', bytes(tag(5, 4))],
    ['a group closed with another field number', bytes(tag(5, 3), tag(6, 4))],
    ['an unterminated group', bytes(tag(5, 3), tag(1, 0), [1])],
    ['a truncated length', bytes([0x0a, 0x05, 0x61])],
    ['a truncated varint', bytes(record(tag(1, 0)), [0x80])],
    ['an 11-byte index varint', record(tag(1, 0), Array(10).fill(0xff), [0x01], len(3, [1]))],
    ['a 6-byte tag varint', bytes([0x88, 0x80, 0x80, 0x80, 0x80, 0x00], [1])],
    ['a tag above 2^32', bytes([0x88, 0x80, 0x80, 0x80, 0x10], [1])],
    ['a length whose 5th byte is above 7', bytes([0x0a, 0xff, 0xff, 0xff, 0xff, 0x08])],
    ['a nested Record running past its length', bytes([0x1a, 0x02, 0x08])],
    ['groups nested deeper than 100', bytes(...Array.from({ length: 102 }, () => tag(5, 3)), ...Array.from({ length: 102 }, () => tag(5, 4)))],
  ])('rejects %s', (_label, wire) => {
    it('like protobufjs', () => {
      expect(referenceDecode(wire)).toBeUndefined();
      expect(ours(wire)).toBeUndefined();
    });
  });

  describe.each([
    ['an empty message', bytes()],
    ['unknown fields of every wire type', bytes(tag(9, 0), [5], tag(9, 1), Array(8).fill(1), len(9, [1, 2]), tag(9, 5), Array(4).fill(2), tag(9, 3), tag(1, 0), [1], tag(9, 4))],
    ['a table entry sent as a varint (skipped)', bytes(tag(1, 0), [5], str(1, 'k'), record(tag(1, 0), [0], len(3, [1])))],
    ['an index repeated (last wins)', bytes(str(1, 'a'), str(1, 'b'), record(tag(1, 0), [0], tag(1, 0), [1], len(3, [7])))],
    ['data repeated (last wins)', bytes(str(1, 'a'), record(tag(1, 0), [0], len(3, [1]), len(3, [2, 3])))],
    ['a record with a valid Tag', bytes(str(1, 'a'), record(tag(1, 0), [0], len(3, [1]), len(4, bytes(str(1, 'k'), str(2, 'v')))))],
    ['groups nested 100 deep', bytes(...Array.from({ length: 100 }, () => tag(5, 3)), ...Array.from({ length: 100 }, () => tag(5, 4)))],
    ['a 10-byte index varint that wraps to 0 modulo 2^64', bytes(str(1, 'a'), record(tag(1, 0), Array(9).fill(0x80), [0x02], len(3, [1])))],
    ['a 5-byte tag varint', bytes([0xc8, 0x80, 0x80, 0x80, 0x00], [1])],
    ['an index of 2^64-1', bytes(record(tag(1, 0), varint((1n << 64n) - 1n), len(3, [1])))],
  ])('accepts %s', (_label, wire) => {
    it('like protobufjs, with the same content', () => {
      expect(referenceDecode(wire)).toBeDefined();
      expectAgreement(wire);
    });
  });

  it('handles more records than its initial scratch space', () => {
    const many = bytes(str(1, 'k'), ...Array.from({ length: 5000 }, (_, i) => record(tag(1, 0), [0], len(3, [i & 0xff]))));
    const decoded = ours(many)!;
    expect(decoded.records).toHaveLength(5000);
    expect(decoded.records[4999]!.data).toEqual(Buffer.from([4999 & 0xff]));
  });

  it('decodes keys repeated across containers from its cache without mixing them up', () => {
    const keys = Array.from({ length: 6000 }, (_, i) => `key-${i}`);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < keys.length; i += 500) {
        const slice = keys.slice(i, i + 500);
        const wire = bytes(...slice.map((k) => str(1, k)));
        expect(ours(wire)!.partitionKeyTable).toEqual(slice);
      }
    }
    // Same length and same cache slot inputs differ only in a middle byte.
    expect(ours(bytes(str(1, 'aaaa-1234567890')))!.partitionKeyTable).toEqual(['aaaa-1234567890']);
    expect(ours(bytes(str(1, 'aaab-1234567890')))!.partitionKeyTable).toEqual(['aaab-1234567890']);
    // Non-ASCII and invalid UTF-8 are decoded, never served from the cache.
    expect(ours(bytes(str(1, 'é')))!.partitionKeyTable).toEqual(['é']);
    expect(ours(bytes(len(1, [0xff])))!.partitionKeyTable).toEqual(['\ufffd']);
    expect(ours(bytes(len(1, [0xff])))!.partitionKeyTable).toEqual(['\ufffd']);
  });
});
