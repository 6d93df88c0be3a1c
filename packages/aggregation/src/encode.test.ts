import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeAggregatedRecord } from './encode.js';
import { AggregationError, InvalidDataError, InvalidExplicitHashKeyError, InvalidPartitionKeyError } from './errors.js';
import { referenceDecode, referenceEncode, type ReferenceMessage } from './protobuf-reference.test-helpers.js';
import { VECTOR_1, VECTOR_2 } from './test-vectors.test-helpers.js';
import type { UserRecordInput } from './user-record-input.js';
import { userRecordArbitrary } from './arbitraries.test-helpers.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** What the KPL would write, built independently with protobufjs: tables in order of first use. */
function kplReference(records: UserRecordInput[]): Uint8Array {
  const message: ReferenceMessage = { partitionKeyTable: [], explicitHashKeyTable: [], records: [] };
  for (const r of records) {
    let pk = message.partitionKeyTable.indexOf(r.partitionKey);
    if (pk < 0) pk = message.partitionKeyTable.push(r.partitionKey) - 1;
    let ehk: number | undefined;
    if (r.explicitHashKey !== undefined) {
      const canonical = BigInt(r.explicitHashKey.trim()).toString();
      ehk = message.explicitHashKeyTable.indexOf(canonical);
      if (ehk < 0) ehk = message.explicitHashKeyTable.push(canonical) - 1;
    }
    message.records.push({ partitionKeyIndex: pk, ...(ehk === undefined ? {} : { explicitHashKeyIndex: ehk }), data: r.data });
  }
  const body = referenceEncode(message);
  return Buffer.concat([Buffer.from('f3899ac2', 'hex'), body, createHash('md5').update(body).digest()]);
}

describe('encodeAggregatedRecord', () => {
  it('writes kpl.md test vector 1 byte for byte', () => {
    expect(hex(encodeAggregatedRecord(VECTOR_1.records))).toBe(VECTOR_1.hex);
  });

  it('writes kpl.md test vector 2 (explicit hash key table, index only where given) byte for byte', () => {
    expect(hex(encodeAggregatedRecord(VECTOR_2.records))).toBe(VECTOR_2.hex);
  });

  it('is byte-identical to a protobufjs encoding of the KPL layout for random records', () => {
    fc.assert(
      fc.property(fc.array(userRecordArbitrary, { minLength: 1, maxLength: 40 }), (records) => {
        expect(hex(encodeAggregatedRecord(records))).toBe(hex(kplReference(records)));
      }),
      { numRuns: 200 },
    );
  });

  it('de-duplicates keys in order of first appearance and writes partition_key_index even when 0', () => {
    const bytes = encodeAggregatedRecord([
      { partitionKey: 'b', data: Buffer.from('1') },
      { partitionKey: 'a', explicitHashKey: '5', data: Buffer.from('2') },
      { partitionKey: 'b', explicitHashKey: '7', data: Buffer.from('3') },
      { partitionKey: 'a', explicitHashKey: '5', data: Buffer.from('4') },
    ]);
    const message = referenceDecode(bytes.subarray(4, bytes.length - 16))!;
    expect(message.partitionKeyTable).toEqual(['b', 'a']);
    expect(message.explicitHashKeyTable).toEqual(['5', '7']);
    expect(message.records.map((r) => [r.partitionKeyIndex, r.explicitHashKeyIndex])).toEqual([
      [0, undefined],
      [1, 0],
      [0, 1],
      [1, 0],
    ]);
    // Record 0 is 1a 05 | 08 00 | 1a 01 31: the index 0 is on the wire.
    expect(hex(bytes)).toContain('1a0508001a0131');
  });

  it('writes explicit hash keys in canonical decimal form (trimmed, no leading zeros), de-duplicated after normalising', () => {
    const bytes = encodeAggregatedRecord([
      { partitionKey: 'a', explicitHashKey: ' 0042 ', data: Buffer.from('x') },
      { partitionKey: 'a', explicitHashKey: '42', data: Buffer.from('y') },
    ]);
    expect(referenceDecode(bytes.subarray(4, bytes.length - 16))!.explicitHashKeyTable).toEqual(['42']);
  });

  it('reads explicit hash keys as the KPL does (Java trim, then BigInteger: a sign is allowed) and writes them canonical', () => {
    const bytes = encodeAggregatedRecord([
      { partitionKey: 'a', explicitHashKey: '+5', data: Buffer.from('x') },
      { partitionKey: 'a', explicitHashKey: '\u0000 5\t', data: Buffer.from('y') },
      { partitionKey: 'a', explicitHashKey: '-0', data: Buffer.from('z') },
    ]);
    expect(referenceDecode(bytes.subarray(4, bytes.length - 16))!.explicitHashKeyTable).toEqual(['5', '0']);
    // Java's trim stops at U+0020: a non-breaking space or a BOM is not whitespace to the KPL.
    for (const explicitHashKey of ['\u00a05', '\ufeff5', '-1']) {
      expect(() => encodeAggregatedRecord([{ partitionKey: 'a', explicitHashKey, data: Buffer.from('x') }])).toThrow(InvalidExplicitHashKeyError);
    }
  });

  it('sizes multi-byte varints and UTF-8 keys exactly (long data, many keys, astral characters)', () => {
    const records = Array.from({ length: 300 }, (_, i) => ({
      partitionKey: `${'😀é'.repeat(i % 7)}key-${i}`,
      data: Buffer.alloc(i * 53, i),
    }));
    expect(hex(encodeAggregatedRecord(records))).toBe(hex(kplReference(records)));
  });

  it('accepts empty data and Uint8Array data', () => {
    const records = [
      { partitionKey: 'a', data: new Uint8Array(0) },
      { partitionKey: 'b', data: new Uint8Array([1, 2, 3]) },
    ];
    expect(hex(encodeAggregatedRecord(records))).toBe(hex(kplReference(records)));
  });

  it('wraps even a single record in the envelope (the aggregator is what sends singles raw)', () => {
    const bytes = encodeAggregatedRecord([{ partitionKey: 'pk1', data: Buffer.from('hello') }]);
    expect(hex(bytes.subarray(0, 4))).toBe('f3899ac2');
    expect(bytes.length).toBe(20 + 5 + 11);
  });

  it.each([
    ['an empty partition key', { partitionKey: '', data: Buffer.from('x') }, InvalidPartitionKeyError],
    ['a 257-character partition key', { partitionKey: 'k'.repeat(257), data: Buffer.from('x') }, InvalidPartitionKeyError],
    ['a partition key with a lone surrogate', { partitionKey: '\ud83d', data: Buffer.from('x') }, InvalidPartitionKeyError],
    ['a missing partition key', { data: Buffer.from('x') }, InvalidPartitionKeyError],
    ['a non-decimal explicit hash key', { partitionKey: 'a', explicitHashKey: 'abc', data: Buffer.from('x') }, InvalidExplicitHashKeyError],
    ['an explicit hash key of 2^128', { partitionKey: 'a', explicitHashKey: (1n << 128n).toString(), data: Buffer.from('x') }, InvalidExplicitHashKeyError],
    ['string data', { partitionKey: 'a', data: 'hello' }, InvalidDataError],
    ['an array of numbers as data', { partitionKey: 'a', data: [1, 2, 3] }, InvalidDataError],
    ['an ArrayBuffer as data', { partitionKey: 'a', data: new ArrayBuffer(3) }, InvalidDataError],
    ['missing data', { partitionKey: 'a' }, InvalidDataError],
  ])('rejects %s with a typed error', (_label, record, errorClass) => {
    const good = { partitionKey: 'ok', data: Buffer.from('fine') };
    expect(() => encodeAggregatedRecord([good, record as unknown as UserRecordInput])).toThrow(errorClass);
  });

  it('names the field at fault', () => {
    try {
      encodeAggregatedRecord([{ partitionKey: 'a', data: 'x' as unknown as Uint8Array }]);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_DATA', field: 'data', retriable: false });
    }
  });

  it('is unaffected by an earlier call that threw half-way (the builder shared between calls starts clean)', () => {
    const good = VECTOR_1.records;
    expect(() => encodeAggregatedRecord([...good, { partitionKey: '', data: Buffer.from('x') }])).toThrow(InvalidPartitionKeyError);
    expect(() => encodeAggregatedRecord([...good, { partitionKey: 'z', data: 'x' as unknown as Uint8Array }])).toThrow(InvalidDataError);
    expect(hex(encodeAggregatedRecord(good))).toBe(VECTOR_1.hex);
  });

  it('validates a partition key it has met before, in an earlier call, only once but never skips an invalid one', () => {
    for (let i = 0; i < 3; i++) expect(hex(encodeAggregatedRecord(VECTOR_1.records))).toBe(VECTOR_1.hex);
    expect(() => encodeAggregatedRecord([{ partitionKey: 'k'.repeat(257), data: Buffer.from('x') }])).toThrow(InvalidPartitionKeyError);
  });

  it('encodes correctly when called again from inside a call (a getter on a record)', () => {
    let inner: Uint8Array | undefined;
    const tricky = {
      get partitionKey() {
        inner ??= encodeAggregatedRecord(VECTOR_2.records);
        return 'pk1';
      },
      data: Buffer.from('x'),
    };
    const outer = encodeAggregatedRecord([tricky, { partitionKey: 'pk2', data: Buffer.from('y') }]);
    expect(hex(inner!)).toBe(VECTOR_2.hex);
    expect(hex(outer)).toBe(hex(encodeAggregatedRecord([{ partitionKey: 'pk1', data: Buffer.from('x') }, { partitionKey: 'pk2', data: Buffer.from('y') }])));
  });

  it('rejects an empty list and non-arrays', () => {
    expect(() => encodeAggregatedRecord([])).toThrow(AggregationError);
    expect(() => encodeAggregatedRecord('x' as unknown as UserRecordInput[])).toThrow(AggregationError);
    expect(() => encodeAggregatedRecord([null as unknown as UserRecordInput])).toThrow(AggregationError);
  });
});
