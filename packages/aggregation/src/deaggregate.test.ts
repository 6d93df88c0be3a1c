import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deaggregate, deaggregateWithReport, type UserRecord } from './deaggregate.js';
import { encodeAggregatedRecord } from './encode.js';
import { AggregationError, InvalidDataError, InvalidHashKeyRangeError, InvalidPartitionKeyError, InvalidSequenceNumberError } from './errors.js';
import { FULL_HASH_KEY_RANGE, MAX_HASH_KEY, partitionKeyToHashKey, splitHashKeyRange } from './hash-key.js';
import type { KinesisRecordInput, LambdaKinesisRecord, SdkKinesisRecord } from './kinesis-record-input.js';
import { referenceEncode, type ReferenceMessage } from './protobuf-reference.test-helpers.js';
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

describe('deaggregate: explicit hash key table entries (one policy, with or without hashKeyRange)', () => {
  const MAX = MAX_HASH_KEY.toString();
  /** Record 0 uses explicit_hash_key_table[0]; record 1 has only its partition key ("b"). */
  const withEntries = (table: string[], records?: ReferenceMessage['records']) => {
    const body = referenceEncode({
      partitionKeyTable: ['a', 'b'],
      explicitHashKeyTable: table,
      records: records ?? [
        { partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: Buffer.from('x') },
        { partitionKeyIndex: 1, data: Buffer.from('y') },
      ],
    });
    return container(body);
  };
  const hashB = partitionKeyToHashKey('b');
  const ranges = [undefined, FULL_HASH_KEY_RANGE, { startingHashKey: '0', endingHashKey: MAX }];

  it.each([
    ['a leading +', '+5', 5n],
    ['"-0"', '-0', 0n],
    ['leading zeros past 39 digits', `${'0'.repeat(10)}${MAX}`, MAX_HASH_KEY],
    ['a signed, zero-padded key', `+000${MAX}`, MAX_HASH_KEY],
  ])('delivers an entry with %s, keeping the string the table holds, range-checked by its value', (_label, entry, value) => {
    const data = withEntries([entry]);
    for (const hashKeyRange of ranges) {
      const report = deaggregateWithReport(sdk(data), hashKeyRange === undefined ? {} : { hashKeyRange });
      expect(report).toMatchObject({ aggregated: true, malformed: false, discardedOutOfRange: 0 });
      expect(report.records.map((r) => [r.partitionKey, r.explicitHashKey, text(r), r.subSequenceNumber])).toEqual([
        ['a', entry, 'x', 0],
        ['b', undefined, 'y', 1],
      ]);
    }
    // In range exactly when its value is: a range of [value, value] (widened to take "b") keeps it, one beside it drops it.
    const lo = value < hashB ? value : hashB;
    const hi = value > hashB ? value : hashB;
    expect(deaggregate(sdk(data), { hashKeyRange: { startingHashKey: lo, endingHashKey: hi } })).toHaveLength(2);
    if (value === lo && value < MAX_HASH_KEY) {
      expect(deaggregateWithReport(sdk(data), { hashKeyRange: { startingHashKey: value + 1n, endingHashKey: MAX_HASH_KEY } }).discardedOutOfRange).toBe(2);
    } else {
      expect(deaggregateWithReport(sdk(data), { hashKeyRange: { startingHashKey: 0n, endingHashKey: value - 1n } }).discardedOutOfRange).toBe(2);
    }
  });

  it.each([
    ['letters', 'abc'],
    ['a negative key', '-1'],
    ['2^128', (MAX_HASH_KEY + 1n).toString()],
    ['2^128 zero-padded', `000${MAX_HASH_KEY + 1n}`],
    ['40 nines', '9'.repeat(40)],
    ['an empty string', ''],
    ['a space (BigInteger does not trim)', ' 5'],
    ['a decimal point', '1.5'],
    ['a sign alone', '+'],
    ['Arabic-Indic digits', '\u0665'],
  ])('passes the container through as malformed when an entry is %s, with or without a range', (_label, entry) => {
    const data = withEntries([entry]);
    for (const hashKeyRange of [...ranges, splitHashKeyRange(FULL_HASH_KEY_RANGE, 2)[0]!]) {
      for (const shape of [sdk, lambda]) {
        const report = deaggregateWithReport(shape(data), hashKeyRange === undefined ? {} : { hashKeyRange });
        expectPassThrough(report.records, data);
        expect(report).toMatchObject({ aggregated: false, malformed: true, checksumMismatch: false, discardedOutOfRange: 0 });
      }
    }
  });

  it('tells canonical keys at the 38/39-digit and 2^128 boundaries apart exactly', () => {
    const valid = ['0', '9'.repeat(38), `1${'0'.repeat(38)}`, MAX, (MAX_HASH_KEY - 1n).toString()];
    const invalid = [(MAX_HASH_KEY + 1n).toString(), '9'.repeat(39), `4${'0'.repeat(38)}`];
    for (const hashKeyRange of ranges) {
      const options = hashKeyRange === undefined ? {} : { hashKeyRange };
      for (const entry of valid) expect(deaggregateWithReport(sdk(withEntries([entry])), options).records[0]!.explicitHashKey, entry).toBe(entry);
      for (const entry of invalid) expect(deaggregateWithReport(sdk(withEntries([entry])), options).malformed, entry).toBe(true);
    }
  });

  it('reads only the entries records use, as the KCL does: an unused bad entry changes nothing', () => {
    const data = withEntries(['7', 'abc']);
    for (const hashKeyRange of ranges) {
      const report = deaggregateWithReport(sdk(data), hashKeyRange === undefined ? {} : { hashKeyRange });
      expect(report).toMatchObject({ aggregated: true, malformed: false });
      expect(report.records.map((r) => r.explicitHashKey)).toEqual(['7', undefined]);
    }
    // The same entry used by a record: malformed.
    const used = withEntries(['7', 'abc'], [
      { partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: Buffer.from('x') },
      { partitionKeyIndex: 1, explicitHashKeyIndex: 1, data: Buffer.from('y') },
    ]);
    for (const hashKeyRange of ranges) {
      expect(deaggregateWithReport(sdk(used), hashKeyRange === undefined ? {} : { hashKeyRange })).toMatchObject({ aggregated: false, malformed: true });
    }
  });

  it('checks each entry once, and afresh for every container (no state carried over)', () => {
    const good = withEntries(['5']);
    const bad = withEntries(['x5']);
    for (let i = 0; i < 3; i++) {
      expect(deaggregateWithReport(sdk(good)).malformed).toBe(false);
      expect(deaggregateWithReport(sdk(bad)).malformed).toBe(true);
    }
    // Many records sharing one entry, and a table bigger than the scratch memory's first size.
    const table = Array.from({ length: 700 }, (_, i) => String(i));
    const many = container(
      referenceEncode({
        partitionKeyTable: ['a'],
        explicitHashKeyTable: table,
        records: Array.from({ length: 1400 }, (_, i) => ({ partitionKeyIndex: 0, explicitHashKeyIndex: i % 700, data: Buffer.from([i & 255]) })),
      }),
    );
    const report = deaggregateWithReport(sdk(many), { hashKeyRange: { startingHashKey: 0n, endingHashKey: 699n } });
    expect(report.records.map((r) => r.explicitHashKey)).toEqual(Array.from({ length: 1400 }, (_, i) => String(i % 700)));
    table[650] = '-650';
    const broken = container(
      referenceEncode({
        partitionKeyTable: ['a'],
        explicitHashKeyTable: table,
        records: Array.from({ length: 700 }, (_, i) => ({ partitionKeyIndex: 0, explicitHashKeyIndex: i, data: Buffer.from([i & 255]) })),
      }),
    );
    expect(deaggregateWithReport(sdk(broken))).toMatchObject({ aggregated: false, malformed: true });
    expect(deaggregateWithReport(sdk(many)).records).toHaveLength(1400);
  });

  it('is malformed even when an earlier record is out of the range (no drop decided by record order)', () => {
    // Record 0 ("b", upper or lower half by its MD5) is checked first; record 1 has the bad entry.
    const data = withEntries(['abc'], [
      { partitionKeyIndex: 1, data: Buffer.from('y') },
      { partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: Buffer.from('x') },
    ]);
    const outside = hashB < (1n << 127n) ? splitHashKeyRange(FULL_HASH_KEY_RANGE, 2)[1]! : splitHashKeyRange(FULL_HASH_KEY_RANGE, 2)[0]!;
    expect(deaggregateWithReport(sdk(data), { hashKeyRange: outside })).toMatchObject({ aggregated: false, malformed: true, discardedOutOfRange: 0 });
    expect(deaggregateWithReport(sdk(data))).toMatchObject({ aggregated: false, malformed: true });
  });

  it('is malformed when a later record points outside a key table, even after an out-of-range record', () => {
    for (const bad of [{ partitionKeyIndex: 5, data: Buffer.from('z') }, { partitionKeyIndex: 0, explicitHashKeyIndex: 3, data: Buffer.from('z') }]) {
      const data = withEntries(['7'], [{ partitionKeyIndex: 0, explicitHashKeyIndex: 0, data: Buffer.from('x') }, bad]);
      // Record 0 (hash key 7) is outside [8, max]: before, the container was dropped without looking further.
      expect(deaggregateWithReport(sdk(data), { hashKeyRange: { startingHashKey: 8n, endingHashKey: MAX_HASH_KEY } })).toMatchObject({
        aggregated: false,
        malformed: true,
        discardedOutOfRange: 0,
      });
      expect(deaggregateWithReport(sdk(data))).toMatchObject({ aggregated: false, malformed: true });
    }
  });
});

describe('deaggregate: options', () => {
  const vector = Buffer.from(VECTOR_1.hex, 'hex');

  it('treats null options, and null option values, as absent (like undefined)', () => {
    const expected = deaggregateWithReport(sdk(vector));
    const nullOptions = null as unknown as undefined;
    expect(deaggregateWithReport(sdk(vector), nullOptions)).toEqual(expected);
    expect(deaggregate(sdk(vector), nullOptions)).toEqual(expected.records);
    expect(deaggregateWithReport(sdk(vector), { hashKeyRange: null as unknown as undefined, verifyChecksum: null as unknown as undefined })).toEqual(expected);
    // verifyChecksum null still verifies.
    const bad = Buffer.from(vector);
    bad[bad.length - 1]! ^= 1;
    expect(deaggregateWithReport(sdk(bad), { verifyChecksum: null as unknown as undefined }).checksumMismatch).toBe(true);
  });

  it.each([
    ['a string', 'x'],
    ['a number', 5],
    ['a function', () => ({})],
  ])('rejects options that are %s with AggregationError INVALID_ARGUMENT', (_label, options) => {
    for (const call of [deaggregate, deaggregateWithReport]) {
      let caught: unknown;
      try {
        call(sdk(vector), options as unknown as undefined);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(AggregationError);
      expect(caught).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'options' });
    }
  });
});

describe('deaggregate: arrival timestamps', () => {
  const arrival = (value: unknown, shape: 'sdk' | 'lambda' = 'lambda') =>
    (shape === 'sdk'
      ? deaggregate({ Data: Buffer.from('x'), PartitionKey: 'k', SequenceNumber: SEQ, ApproximateArrivalTimestamp: value as Date })
      : deaggregate({ data: 'eA==', partitionKey: 'k', sequenceNumber: SEQ, approximateArrivalTimestamp: value as number }))[0]!.approximateArrivalTimestamp;

  it('keeps what the SDK (a Date) and Lambda (epoch seconds) deliver', () => {
    expect(arrival(ARRIVAL, 'sdk')).toBe(ARRIVAL);
    expect(arrival(1545084650.987)!.toISOString()).toBe('2018-12-17T22:10:50.987Z');
    expect(arrival(0)!.getTime()).toBe(0);
    expect(arrival(ARRIVAL)).toBe(ARRIVAL);
  });

  it.each([
    ['Z', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00.000Z'],
    ['milliseconds (toISOString, JSON.stringify)', ARRIVAL.toISOString(), ARRIVAL.toISOString()],
    ['nanoseconds (Java Instant)', '2024-01-01T00:00:00.123456789Z', '2024-01-01T00:00:00.123Z'],
    ['an offset', '2024-01-01T01:00:00+01:00', '2024-01-01T00:00:00.000Z'],
    ['no seconds', '2024-01-01T00:00Z', '2024-01-01T00:00:00.000Z'],
    ['29 February of a leap year', '2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
    ['an extended year', '+020000-01-01T00:00:00Z', '+020000-01-01T00:00:00.000Z'],
  ])('accepts an ISO 8601 date-time string with %s', (_label, value, iso) => {
    expect(arrival(value)!.toISOString()).toBe(iso);
  });

  it.each([
    ['an invalid Date (SDK shape)', new Date(Number.NaN), 'sdk'],
    ['an invalid Date (Lambda shape)', new Date(Number.NaN), 'lambda'],
    ['epoch seconds past the Date range', 1e20, 'lambda'],
    ['NaN', Number.NaN, 'lambda'],
    ['Infinity', Number.POSITIVE_INFINITY, 'lambda'],
    ['"12" (V8 reads 2001-12-01)', '12', 'lambda'],
    ['"Tue"', 'Tue', 'lambda'],
    ['a date without a time', '2024-01-01', 'lambda'],
    ['a date-time without a time zone (local time)', '2024-01-01T00:00:00', 'lambda'],
    ['an RFC 2822 date', 'Mon, 01 Jan 2024 00:00:00 GMT', 'lambda'],
    ['30 February', '2024-02-30T00:00:00Z', 'lambda'],
    ['29 February of a common year', '2023-02-29T00:00:00Z', 'lambda'],
    ['month 13', '2024-13-01T00:00:00Z', 'lambda'],
    ['epoch seconds as a string', '1545084650.987', 'lambda'],
    ['an empty string', '', 'lambda'],
    ['a boolean', true, 'lambda'],
  ] as const)('rejects %s with AggregationError INVALID_ARGUMENT', (_label, value, shape) => {
    let caught: unknown;
    try {
      arrival(value, shape);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AggregationError);
    expect(caught).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'approximateArrivalTimestamp', retriable: false });
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
