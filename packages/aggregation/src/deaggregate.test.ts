import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deaggregate, deaggregateWithReport, type UserRecord } from './deaggregate.js';
import { encodeAggregatedRecord } from './encode.js';
import { AggregationError, InvalidDataError, InvalidHashKeyRangeError, InvalidPartitionKeyError, InvalidSequenceNumberError } from './errors.js';
import { FULL_HASH_KEY_RANGE, MAX_HASH_KEY, partitionKeyToHashKey, splitHashKeyRange } from './hash-key.js';
import type { KinesisRecordInput, LambdaKinesisRecord, SdkKinesisRecord } from './kinesis-record-input.js';
import { VECTOR_1, VECTOR_2 } from './test-vectors.test-helpers.js';

const SEQ = '49590338271490256608559692538361571095921575989136588898';
const ARRIVAL = new Date('2024-05-01T12:34:56.789Z');
const MAGIC = Buffer.from('f3899ac2', 'hex');
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest();
/** magic + body + MD5(body): a container whose checksum is right whatever the body holds. */
const container = (body: Uint8Array) => Buffer.concat([MAGIC, body, md5(body)]);
const sdk = (data: Uint8Array, extra: object = {}): SdkKinesisRecord => ({
  Data: data,
  PartitionKey: 'a',
  SequenceNumber: SEQ,
  ApproximateArrivalTimestamp: ARRIVAL,
  ...extra,
});
const lambda = (data: Uint8Array, extra: object = {}): LambdaKinesisRecord => ({
  kinesisSchemaVersion: '1.0',
  data: Buffer.from(data).toString('base64'),
  partitionKey: 'a',
  sequenceNumber: SEQ,
  approximateArrivalTimestamp: ARRIVAL.getTime() / 1000,
  ...extra,
});
const text = (r: UserRecord) => Buffer.from(r.data).toString('utf8');

/** The record came back whole: one pass-through record with the input's bytes and metadata. */
function expectPassThrough(records: UserRecord[], data: Uint8Array, partitionKey = 'a') {
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ partitionKey, sequenceNumber: SEQ, subSequenceNumber: 0, aggregated: false });
  expect(Buffer.from(records[0]!.data).equals(Buffer.from(data))).toBe(true);
}

describe('deaggregate: the kpl.md test vectors', () => {
  it.each([
    ['an SDK record', sdk],
    ['a Lambda record', lambda],
    ['a Lambda event record', (d: Uint8Array) => ({ kinesis: lambda(d) })],
  ])('splits vector 1 from %s', (_label, shape) => {
    const records = deaggregate(shape(Buffer.from(VECTOR_1.hex, 'hex')));
    expect(records.map((r) => [r.partitionKey, text(r), r.subSequenceNumber, r.aggregated, r.sequenceNumber])).toEqual([
      ['pk1', 'hello', 0, true, SEQ],
      ['pk2', 'world', 1, true, SEQ],
      ['pk1', '!', 2, true, SEQ],
    ]);
    for (const r of records) {
      expect(r.approximateArrivalTimestamp?.getTime()).toBe(ARRIVAL.getTime());
      expect('explicitHashKey' in r).toBe(false);
    }
  });

  it('gives vector 2 its explicit hash key on the first sub-record only (no EHK where no index: unlike aws-kinesis-agg)', () => {
    const records = deaggregate(sdk(Buffer.from(VECTOR_2.hex, 'hex')));
    expect(records).toEqual([
      { partitionKey: 'a', explicitHashKey: '999', data: new Uint8Array([0x78]), sequenceNumber: SEQ, subSequenceNumber: 0, aggregated: true, approximateArrivalTimestamp: ARRIVAL },
      { partitionKey: 'b', data: new Uint8Array([0x79]), sequenceNumber: SEQ, subSequenceNumber: 1, aggregated: true, approximateArrivalTimestamp: ARRIVAL },
    ]);
    expect('explicitHashKey' in records[1]!).toBe(false);
  });

  it('reports an aggregated record', () => {
    expect(deaggregateWithReport(sdk(Buffer.from(VECTOR_1.hex, 'hex')))).toMatchObject({
      aggregated: true,
      discardedOutOfRange: 0,
      checksumMismatch: false,
      malformed: false,
    });
  });

  it('returns views into the container, not copies', () => {
    const data = Buffer.from(VECTOR_1.hex, 'hex');
    const [first] = deaggregate(sdk(data));
    expect(first!.data.buffer).toBe(data.buffer);
    expect(first!.data.byteOffset).toBe(data.byteOffset + data.indexOf('hello'));
  });

  it('reads a Uint8Array that is not a Buffer, at an offset in its ArrayBuffer', () => {
    const bytes = Buffer.from(VECTOR_1.hex, 'hex');
    const backing = new Uint8Array(bytes.length + 10);
    backing.set(bytes, 7);
    const view = new Uint8Array(backing.buffer, 7, bytes.length);
    expect(deaggregate(sdk(view)).map(text)).toEqual(['hello', 'world', '!']);
  });

  it('round-trips what encodeAggregatedRecord writes, for random records', async () => {
    const { userRecordArbitrary } = await import('./arbitraries.test-helpers.js');
    fc.assert(
      fc.property(fc.array(userRecordArbitrary, { minLength: 1, maxLength: 30 }), fc.boolean(), (records, viaLambda) => {
        const data = encodeAggregatedRecord(records);
        const out = deaggregate(viaLambda ? lambda(data) : sdk(data));
        expect(out).toHaveLength(records.length);
        out.forEach((r, i) => {
          const input = records[i]!;
          expect(r.partitionKey).toBe(input.partitionKey);
          expect(r.explicitHashKey).toBe(input.explicitHashKey === undefined ? undefined : BigInt(input.explicitHashKey).toString());
          expect('explicitHashKey' in r).toBe(input.explicitHashKey !== undefined);
          expect(Buffer.from(r.data).equals(Buffer.from(input.data))).toBe(true);
          expect(r.subSequenceNumber).toBe(i);
          expect(r.aggregated).toBe(true);
        });
      }),
      { numRuns: 150 },
    );
  });
});

describe('deaggregate: sizes past the one-byte fast paths', () => {
  it('reads key indices >= 128 and data lengths of 1, 2 and 3 varint bytes', () => {
    const records = Array.from({ length: 300 }, (_, i) => ({
      partitionKey: `key-${i % 200}`,
      ...(i % 7 === 0 ? { explicitHashKey: String(BigInt(i) * 10n ** 30n) } : {}),
      data: Buffer.alloc(i === 5 ? 20000 : i === 6 ? 200 : i % 50, i & 0xff),
    }));
    const out = deaggregate(sdk(encodeAggregatedRecord(records)));
    expect(out).toHaveLength(300);
    out.forEach((r, i) => {
      expect(r.partitionKey).toBe(records[i]!.partitionKey);
      expect(r.explicitHashKey).toBe(records[i]!.explicitHashKey);
      expect(Buffer.from(r.data).equals(records[i]!.data)).toBe(true);
    });
  });
});

describe('deaggregate: records that are not aggregated pass through unchanged', () => {
  it('passes a plain record through with its partition key, explicit hash key and metadata', () => {
    const data = Buffer.from('just a record');
    const [r] = deaggregate(sdk(data, { PartitionKey: 'user-7', ExplicitHashKey: '12345' }));
    expect(r).toEqual({
      partitionKey: 'user-7',
      explicitHashKey: '12345',
      data,
      sequenceNumber: SEQ,
      subSequenceNumber: 0,
      aggregated: false,
      approximateArrivalTimestamp: ARRIVAL,
    });
    expect(deaggregateWithReport(sdk(data))).toMatchObject({ aggregated: false, checksumMismatch: false, malformed: false });
  });

  it('keeps the explicit hash key of a Lambda record and converts its epoch-seconds timestamp', () => {
    const [r] = deaggregate(lambda(Buffer.from('x'), { partitionKey: 'k', explicitHashKey: '77', approximateArrivalTimestamp: 1545084650.987 }));
    expect(r).toMatchObject({ partitionKey: 'k', explicitHashKey: '77', aggregated: false, subSequenceNumber: 0 });
    expect(r!.approximateArrivalTimestamp!.toISOString()).toBe('2018-12-17T22:10:50.987Z');
  });

  it('decodes base64 like Buffer.from: padding optional, URL-safe alphabet, whitespace and stray characters skipped', () => {
    const body = Buffer.from('any bytes \u00ff\u0000 at all');
    const canonical = body.toString('base64');
    for (const data of [canonical, canonical.replace(/=+$/, ''), body.toString('base64url'), ` ${canonical.slice(0, 8)}\n${canonical.slice(8)} `, `${canonical}!!`, '', '=']) {
      const [r] = deaggregate({ data, partitionKey: 'k', sequenceNumber: SEQ });
      expect(Buffer.from(r!.data).equals(Buffer.from(data, 'base64')), JSON.stringify(data)).toBe(true);
    }
  });

  it('decodes base64 like Buffer.from for random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= \n\t.'), maxLength: 64 }), (data) => {
        const [r] = deaggregate({ data, partitionKey: 'k', sequenceNumber: SEQ });
        expect(Buffer.from(r!.data).equals(Buffer.from(data, 'base64'))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('omits the timestamp when the record has none', () => {
    const [r] = deaggregate({ Data: Buffer.from('x'), PartitionKey: 'k', SequenceNumber: SEQ });
    expect('approximateArrivalTimestamp' in r!).toBe(false);
  });

  const vector = Buffer.from(VECTOR_1.hex, 'hex');
  const withFlippedByte = (b: Buffer, at: number) => {
    const copy = Buffer.from(b);
    copy[at] = copy[at]! ^ 0x01;
    return copy;
  };
  const body = (...hex: string[]) => Buffer.from(hex.join(''), 'hex');

  it.each([
    ['empty data', Buffer.alloc(0), {}],
    ['the magic alone', MAGIC, {}],
    ['the magic and exactly 16 bytes (a valid MD5 of an empty message)', container(Buffer.alloc(0)), {}],
    ['a wrong magic', Buffer.concat([Buffer.from('f3899ac3', 'hex'), vector.subarray(4)]), {}],
    ['a truncated container', vector.subarray(0, vector.length - 5), { checksumMismatch: true }],
    ['a container cut inside its protobuf', vector.subarray(0, 30), { checksumMismatch: true }],
    ['a bad checksum', withFlippedByte(vector, vector.length - 1), { checksumMismatch: true }],
    ['a damaged protobuf (checksum catches it)', withFlippedByte(vector, 10), { checksumMismatch: true }],
    ['garbage after the magic', Buffer.concat([MAGIC, Buffer.from('this is not a KPL record at all, just text')]), { checksumMismatch: true }],
    ['an undecodable protobuf with a valid checksum', container(body('0a05', '6162')), { malformed: true }],
    ['a Record missing its data (valid checksum)', container(body('0a0161', '1a020800')), { malformed: true }],
    ['wrong field types: partition_key_index as bytes (valid checksum)', container(body('0a0161', '1a06', '0a0100', '1a0178')), { malformed: true }],
    ['wrong field types: table entry as a varint, so the index points nowhere', container(body('0805', '1a05', '0800', '1a0178')), { malformed: true }],
    ['a partition key index out of the table', container(body('0a0161', '1a05', '0801', '1a0178')), { malformed: true }],
    ['an explicit hash key index out of the table', container(body('0a0161', '1203393939', '1a07', '0800', '1001', '1a0178')), { malformed: true }],
    ['an index of 2^64-1', container(body('0a0161', '1a0e', '08ffffffffffffffffff01', '1a0178')), { malformed: true }],
    ['a valid message with no records', container(body('0a0161')), { malformed: true }],
    ['field number 0 (valid checksum)', container(body('0001', '0a0161')), { malformed: true }],
  ])('passes through %s', (_label, data, flags) => {
    for (const shape of [sdk, lambda]) {
      const report = deaggregateWithReport(shape(data));
      expectPassThrough(report.records, data);
      expect(report).toMatchObject({ aggregated: false, discardedOutOfRange: 0, checksumMismatch: false, malformed: false, ...flags });
    }
  });

  it('decodes a container with a bad checksum when verifyChecksum is false', () => {
    const bad = withFlippedByte(vector, vector.length - 1);
    expect(deaggregate(sdk(bad), { verifyChecksum: false }).map(text)).toEqual(['hello', 'world', '!']);
    expect(deaggregateWithReport(sdk(bad), { verifyChecksum: true }).checksumMismatch).toBe(true);
  });

  it('never throws and never loses a record, whatever the bytes', () => {
    const damaged = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([MAGIC, b])),
      fc.uint8Array({ maxLength: 64 }).map((b) => container(b)),
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]) => {
        const copy = Buffer.from(vector);
        copy[at % copy.length] = v;
        return copy;
      }),
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, v]) => {
        const b = Buffer.from(vector.subarray(4, vector.length - 16));
        b[at % b.length] = v;
        return container(b);
      }),
      fc.nat().map((n) => vector.subarray(0, n % (vector.length + 1))),
    );
    fc.assert(
      fc.property(damaged, fc.boolean(), fc.boolean(), (data, viaLambda, verifyChecksum) => {
        const report = deaggregateWithReport(viaLambda ? lambda(data) : sdk(data), { verifyChecksum });
        if (report.aggregated) {
          expect(report.records.length).toBeGreaterThan(0);
          report.records.forEach((r, i) => expect(r).toMatchObject({ aggregated: true, subSequenceNumber: i, sequenceNumber: SEQ }));
        } else {
          expectPassThrough(report.records, data);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('deaggregate: hash key range (KCL drops containers that do not belong to the shard)', () => {
  const [lower, upper] = splitHashKeyRange(FULL_HASH_KEY_RANGE, 2) as [(typeof FULL_HASH_KEY_RANGE), typeof FULL_HASH_KEY_RANGE];
  const asStrings = (r: typeof lower) => ({ startingHashKey: r.startingHashKey.toString(), endingHashKey: r.endingHashKey.toString() });
  // MD5("pk1") is in the upper half, MD5("pk2") in the lower half (kpl.md 1.6).
  const mixed = Buffer.from(VECTOR_1.hex, 'hex');
  const upperOnly = encodeAggregatedRecord([
    { partitionKey: 'pk1', data: Buffer.from('1') },
    { partitionKey: 'pk1', data: Buffer.from('2') },
  ]);

  it('checks the fixture: pk1 hashes to the upper half, pk2 to the lower', () => {
    expect(partitionKeyToHashKey('pk1') >= upper.startingHashKey).toBe(true);
    expect(partitionKeyToHashKey('pk2') <= lower.endingHashKey).toBe(true);
  });

  it('keeps a container whose records are all in range (string or bigint bounds)', () => {
    expect(deaggregate(sdk(upperOnly), { hashKeyRange: asStrings(upper) }).map(text)).toEqual(['1', '2']);
    expect(deaggregate(sdk(upperOnly), { hashKeyRange: upper })).toHaveLength(2);
  });

  it('drops the whole container when any record is out of range, and reports how many', () => {
    for (const range of [asStrings(upper), lower]) {
      expect(deaggregateWithReport(sdk(mixed), { hashKeyRange: range })).toEqual({
        records: [],
        aggregated: true,
        discardedOutOfRange: 3,
        checksumMismatch: false,
        malformed: false,
      });
    }
    expect(deaggregate(sdk(upperOnly), { hashKeyRange: lower })).toEqual([]);
  });

  it('uses a sub-record explicit hash key instead of its partition key', () => {
    const data = encodeAggregatedRecord([
      { partitionKey: 'pk1', explicitHashKey: '5', data: Buffer.from('a') }, // pk1 is upper, but EHK 5 is lower
      { partitionKey: 'pk2', data: Buffer.from('b') },
    ]);
    expect(deaggregate(sdk(data), { hashKeyRange: lower }).map(text)).toEqual(['a', 'b']);
    expect(deaggregateWithReport(sdk(data), { hashKeyRange: upper }).discardedOutOfRange).toBe(2);
  });

  it('treats the range bounds as inclusive', () => {
    const h = partitionKeyToHashKey('pk1');
    expect(deaggregate(sdk(upperOnly), { hashKeyRange: { startingHashKey: h, endingHashKey: h } })).toHaveLength(2);
    expect(deaggregate(sdk(upperOnly), { hashKeyRange: { startingHashKey: h + 1n, endingHashKey: MAX_HASH_KEY } })).toHaveLength(0);
  });

  it('does not filter records that were not aggregated', () => {
    const [r] = deaggregate(sdk(Buffer.from('plain'), { PartitionKey: 'pk1' }), { hashKeyRange: lower });
    expect(r).toMatchObject({ partitionKey: 'pk1', aggregated: false });
  });

  it('passes through a container whose explicit hash key entry is not a hash key (when a range must be checked)', () => {
    const data = container(Buffer.from(['0a0161', '1203787878', '1a07', '0800', '1000', '1a0178'].join(''), 'hex'));
    expect(deaggregate(sdk(data))[0]).toMatchObject({ explicitHashKey: 'xxx', aggregated: true });
    expectPassThrough(deaggregate(sdk(data), { hashKeyRange: lower }), data);
  });

  it('re-reads a range object whose bounds were changed', () => {
    const range = asStrings(lower);
    expect(deaggregate(sdk(upperOnly), { hashKeyRange: range })).toHaveLength(0);
    Object.assign(range, asStrings(upper));
    expect(deaggregate(sdk(upperOnly), { hashKeyRange: range })).toHaveLength(2);
  });

  it('classifies partition keys exactly like MD5-as-uint128 for random keys and ranges, also when repeated (cached)', async () => {
    const { partitionKeyArbitrary } = await import('./arbitraries.test-helpers.js');
    const hashKey = fc.bigInt({ min: 0n, max: MAX_HASH_KEY });
    fc.assert(
      fc.property(fc.array(partitionKeyArbitrary, { minLength: 1, maxLength: 8 }), hashKey, hashKey, (keys, a, b) => {
        const range = { startingHashKey: a < b ? a : b, endingHashKey: a < b ? b : a };
        const data = encodeAggregatedRecord(keys.map((partitionKey) => ({ partitionKey, data: Buffer.from('x') })));
        const expected = keys.every((k) => partitionKeyToHashKey(k) >= range.startingHashKey && partitionKeyToHashKey(k) <= range.endingHashKey);
        for (let i = 0; i < 2; i++) expect(deaggregate(sdk(data), { hashKeyRange: range })).toHaveLength(expected ? keys.length : 0);
        // Bounds at a key's own hash key: inclusive on both ends.
        const h = partitionKeyToHashKey(keys[0]!);
        const single = encodeAggregatedRecord([{ partitionKey: keys[0]!, data: Buffer.from('x') }]);
        expect(deaggregate(sdk(single), { hashKeyRange: { startingHashKey: h, endingHashKey: h } })).toHaveLength(1);
        if (h > 0n) expect(deaggregate(sdk(single), { hashKeyRange: { startingHashKey: 0n, endingHashKey: h - 1n } })).toHaveLength(0);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects an invalid range with InvalidHashKeyRangeError', () => {
    expect(() => deaggregate(sdk(mixed), { hashKeyRange: { startingHashKey: '10', endingHashKey: '1' } })).toThrow(InvalidHashKeyRangeError);
    expect(() => deaggregate(sdk(mixed), { hashKeyRange: { startingHashKey: 'x', endingHashKey: '1' } })).toThrow(InvalidHashKeyRangeError);
  });
});

describe('deaggregate: bad arguments throw typed errors', () => {
  it.each([
    ['null', null, AggregationError],
    ['a string', 'record', AggregationError],
    ['a number', 42, AggregationError],
    ['an array', [], AggregationError],
    ['an object without data', { PartitionKey: 'a', SequenceNumber: SEQ }, InvalidDataError],
    ['Data that is not bytes', { Data: 'aGVsbG8=', PartitionKey: 'a', SequenceNumber: SEQ }, InvalidDataError],
    ['data of the wrong type', { data: 5, partitionKey: 'a', sequenceNumber: SEQ }, InvalidDataError],
    ['a missing sequence number', { Data: Buffer.from('x'), PartitionKey: 'a' }, InvalidSequenceNumberError],
    ['a missing partition key', { data: 'eA==', sequenceNumber: SEQ }, InvalidPartitionKeyError],
    ['a bad timestamp', { data: 'eA==', partitionKey: 'a', sequenceNumber: SEQ, approximateArrivalTimestamp: {} }, AggregationError],
  ])('%s', (_label, record, errorClass) => {
    expect(() => deaggregate(record as unknown as KinesisRecordInput)).toThrow(errorClass);
    expect(() => deaggregateWithReport(record as unknown as KinesisRecordInput)).toThrow(errorClass);
  });
});
