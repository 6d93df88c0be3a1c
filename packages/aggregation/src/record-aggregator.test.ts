import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { userRecordArbitrary } from './arbitraries.test-helpers.js';
import { deaggregate } from './deaggregate.js';
import { encodeAggregatedRecord } from './encode.js';
import { AggregationConfigError, InvalidDataError, InvalidExplicitHashKeyError, InvalidPartitionKeyError } from './errors.js';
import { partitionKeyToHashKey } from './hash-key.js';
import {
  RECORD_AGGREGATOR_DEFAULTS,
  RecordAggregator,
  resolveRecordAggregatorOptions,
  type AggregatedRecord,
  type AggregatorUserRecord,
} from './record-aggregator.js';
import { VECTOR_1 } from './test-vectors.test-helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const rec = (partitionKey: string, size: number, extra: Partial<AggregatorUserRecord<number>> = {}): AggregatorUserRecord<number> => ({
  partitionKey,
  data: Buffer.alloc(size, 0x61),
  ...extra,
});
/** The exact bytes a pending container would be emitted with. */
const expectedSize = (records: AggregatorUserRecord<unknown>[]) =>
  records.length === 0 ? 0 : records.length === 1 ? records[0]!.data.length : encodeAggregatedRecord(records).length;

describe('RecordAggregator options', () => {
  it('defaults to the KPL values (AggregationMaxCount 4294967295, AggregationMaxSize 51200)', () => {
    expect(RECORD_AGGREGATOR_DEFAULTS).toEqual({ maxCount: 4294967295, maxSize: 51200 });
    const aggregator = new RecordAggregator();
    expect([aggregator.maxCount, aggregator.maxSize]).toEqual([4294967295, 51200]);
  });

  it('accepts the range bounds', () => {
    expect(resolveRecordAggregatorOptions({ maxCount: 1, maxSize: 64 })).toEqual({ maxCount: 1, maxSize: 64 });
    expect(resolveRecordAggregatorOptions({ maxCount: 4294967295, maxSize: 10485760 })).toEqual({ maxCount: 4294967295, maxSize: 10485760 });
  });

  it.each([
    ['maxSize', 63],
    ['maxSize', 10485761],
    ['maxSize', 1000.5],
    ['maxSize', Number.NaN],
    ['maxSize', '51200'],
    ['maxCount', 0],
    ['maxCount', -1],
    ['maxCount', 4294967296],
    ['maxCount', Number.POSITIVE_INFINITY],
  ])('rejects %s = %s with AggregationConfigError naming the option', (field, value) => {
    let caught: unknown;
    try {
      new RecordAggregator({ [field]: value });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AggregationConfigError);
    expect(caught).toMatchObject({ code: 'INVALID_CONFIG', field, retriable: false });
  });
});

describe('RecordAggregator', () => {
  it('emits kpl.md vector 1 as the KPL would send it: partition key "a", EHK = MD5 of the first key', () => {
    const aggregator = new RecordAggregator();
    for (const r of VECTOR_1.records) expect(aggregator.add(r)).toEqual([]);
    expect(aggregator.count).toBe(3);
    expect(aggregator.size).toBe(59);
    const out = aggregator.flush()!;
    expect(out).toMatchObject({ partitionKey: 'a', explicitHashKey: VECTOR_1.routingHashKey, aggregated: true });
    expect(hex(out.data)).toBe(VECTOR_1.hex);
    expect(out.userRecords.map((r) => r.partitionKey)).toEqual(['pk1', 'pk2', 'pk1']);
    expect([aggregator.count, aggregator.size, aggregator.flush()]).toEqual([0, 0, undefined]);
  });

  it('routes a container by the first record explicit hash key when it has one (canonical form)', () => {
    const aggregator = new RecordAggregator();
    const first = { partitionKey: 'x', explicitHashKey: ' 0042', data: Buffer.from('1') };
    const second = { partitionKey: 'y', data: Buffer.from('2') };
    aggregator.add(first);
    aggregator.add(second);
    const out = aggregator.flush()!;
    expect(out.explicitHashKey).toBe('42');
    // userRecords are the objects given, as given; the bytes carry the canonical form.
    expect(out.userRecords).toHaveLength(2);
    expect(out.userRecords[0]).toBe(first);
    expect(out.userRecords[1]).toBe(second);
    expect(hex(out.data)).toBe(hex(encodeAggregatedRecord([{ ...first, explicitHashKey: '42' }, second])));
  });

  it('accepts a signed explicit hash key as the KPL does ("+5" is 5, "-0" is 0) and routes by its canonical form', () => {
    const aggregator = new RecordAggregator();
    aggregator.add({ partitionKey: 'x', explicitHashKey: '\u0000+5 ', data: Buffer.from('1') });
    aggregator.add({ partitionKey: 'y', explicitHashKey: '-0', data: Buffer.from('2') });
    const out = aggregator.flush()!;
    expect(out.explicitHashKey).toBe('5');
    expect(out.userRecords.map((r) => r.explicitHashKey)).toEqual(['\u0000+5 ', '-0']);
    const single = new RecordAggregator();
    single.add({ partitionKey: 'z', explicitHashKey: '+007', data: Buffer.from('3') });
    expect(single.flush()).toMatchObject({ explicitHashKey: '7', aggregated: false });
  });

  it('sends a lone record raw: the user key and bytes, EHK = MD5 of its key, as the KPL does', () => {
    const aggregator = new RecordAggregator<AggregatorUserRecord<string>>();
    const data = Buffer.from('hello');
    const record = { partitionKey: 'pk1', data, context: 'ctx' };
    aggregator.add(record);
    expect(aggregator.size).toBe(5);
    const out = aggregator.flush()!;
    expect(out).toEqual({
      partitionKey: 'pk1',
      explicitHashKey: partitionKeyToHashKey('pk1').toString(),
      data,
      aggregated: false,
      userRecords: [record],
    });
    expect(out.data).toBe(data);
    expect(out.userRecords[0]).toBe(record);
  });

  it('returns one shared frozen empty array when nothing was emitted (no allocation per record)', () => {
    const aggregator = new RecordAggregator();
    const first = aggregator.add(rec('a', 1));
    const second = aggregator.add(rec('b', 1));
    expect(first).toBe(second);
    expect(first).toEqual([]);
    expect(Object.isFrozen(first)).toBe(true);
    expect(new RecordAggregator().add(rec('c', 1))).toBe(first);
  });

  it('routes by the MD5 of the first key every time a key is reused (cached hash keys stay right)', () => {
    const aggregator = new RecordAggregator<AggregatorUserRecord<number>>({ maxCount: 2 });
    const keys = ['pk1', 'pk2', 'pk1', 'ü', 'pk2', 'pk1', 'ü', 'pk2'];
    const emitted = keys.flatMap((k, i) => aggregator.add(rec(k, 3, { context: i })));
    const last = aggregator.flush();
    if (last) emitted.push(last);
    expect(emitted).toHaveLength(4);
    for (const c of emitted) expect(c.explicitHashKey).toBe(partitionKeyToHashKey(c.userRecords[0]!.partitionKey).toString());
    // A lone record (sent raw) of a known key too.
    const single = new RecordAggregator({ maxCount: 1 });
    for (const k of ['pk1', 'pk1', 'pk2']) expect(single.add(rec(k, 1))[0]!.explicitHashKey).toBe(partitionKeyToHashKey(k).toString());
  });

  it('writes the same bytes whether keys repeat across containers or not (it stops and starts remembering them)', () => {
    const aggregator = new RecordAggregator<AggregatorUserRecord<number>>({ maxCount: 40 });
    // The builder's mode is private; peeked at only to prove both modes ran.
    const remembering = () => (aggregator as unknown as { builder: { rememberKeys: boolean } }).builder.rememberKeys;
    const modes = new Set<boolean>();
    let n = 0;
    const check = (c: AggregatedRecord<AggregatorUserRecord<number>>) => {
      if (c.aggregated) expect(hex(c.data)).toBe(hex(encodeAggregatedRecord(c.userRecords)));
      expect(c.explicitHashKey).toBe(c.userRecords[0]!.explicitHashKey ?? partitionKeyToHashKey(c.userRecords[0]!.partitionKey).toString());
    };
    const put = (partitionKey: string, extra: Partial<AggregatorUserRecord<number>> = {}) => {
      aggregator.add(rec(partitionKey, 1 + (n % 7), { context: n++, ...extra })).forEach(check);
      modes.add(remembering());
    };
    // Unique keys (ids), then a small key space (with non-ASCII keys and explicit hash keys), then ids again.
    for (let i = 0; i < 40 * 10; i++) put(`order-${i}`);
    expect(remembering()).toBe(false);
    for (let i = 0; i < 40 * 80; i++) put(i % 3 === 0 ? `clé-${i % 20}` : `k${i % 20}`, i % 5 === 0 ? { explicitHashKey: String(i % 9) } : {});
    expect(remembering()).toBe(true);
    // Validation still happens for keys met for the first time in either mode.
    expect(() => aggregator.add(rec('', 1))).toThrow(InvalidPartitionKeyError);
    for (let i = 0; i < 40 * 10; i++) put(`user-${i}-${'x'.repeat(i % 300 === 0 ? 300 : 0)}`.slice(0, 256));
    expect(modes).toEqual(new Set([true, false]));
    expect(() => aggregator.add(rec('x'.repeat(257), 1))).toThrow(InvalidPartitionKeyError);
    const last = aggregator.flush();
    if (last) check(last);
  });

  it('hands back the objects given, in order (index = sub-sequence number), with whatever else they carry', () => {
    interface Tracked extends AggregatorUserRecord<number> {
      id: string;
    }
    const aggregator = new RecordAggregator<Tracked>();
    const given: Tracked[] = Array.from({ length: 5 }, (_, i) => ({ ...rec(`k${i % 2}`, 3, { context: i }), id: `r${i}` }));
    for (const r of given) aggregator.add(r);
    const out = aggregator.flush()!;
    expect(out.userRecords).toHaveLength(5);
    out.userRecords.forEach((r, i) => expect(r).toBe(given[i]));
    expect(out.userRecords.map((r) => [r.context, r.id])).toEqual([[0, 'r0'], [1, 'r1'], [2, 'r2'], [3, 'r3'], [4, 'r4']]);
    // The next container starts empty: nothing of the last one is handed back again.
    aggregator.add(given[0]!);
    expect(aggregator.flush()!.userRecords).toEqual([given[0]]);
    expect(deaggregate({ Data: out.data, PartitionKey: out.partitionKey, SequenceNumber: '1' }).map((r) => r.subSequenceNumber)).toEqual([0, 1, 2, 3, 4]);
  });

  it('takePending() empties the container without emitting it and hands back the objects given, in order', () => {
    const aggregator = new RecordAggregator();
    expect(aggregator.takePending()).toEqual([]);
    const given = [rec('k0', 3, { context: 0 }), rec('k1', 4, { context: 1 }), rec('k0', 5, { context: 2 })];
    for (const r of given) aggregator.add(r);
    const taken = aggregator.takePending();
    expect(taken).toHaveLength(3);
    taken.forEach((r, i) => expect(r).toBe(given[i]));
    expect([aggregator.count, aggregator.size, aggregator.flush()]).toEqual([0, 0, undefined]);
    expect(aggregator.takePending()).toEqual([]);
    // The next container starts afresh: its key table in its own order of first appearance.
    const next = [rec('k1', 6), rec('k0', 7)];
    for (const r of next) aggregator.add(r);
    const out = aggregator.flush()!;
    expect(out.userRecords).toEqual(next);
    expect(hex(out.data)).toBe(hex(encodeAggregatedRecord(next)));
  });

  it('emits the container that reaches maxCount from add()', () => {
    const aggregator = new RecordAggregator({ maxCount: 3 });
    expect(aggregator.add(rec('a', 1))).toEqual([]);
    expect(aggregator.add(rec('b', 1))).toEqual([]);
    const [full, ...rest] = aggregator.add(rec('c', 1));
    expect(rest).toEqual([]);
    expect(full!.userRecords).toHaveLength(3);
    expect(aggregator.count).toBe(0);
  });

  it('with maxCount 1 sends every record raw at once', () => {
    const aggregator = new RecordAggregator({ maxCount: 1 });
    for (const key of ['a', 'b']) {
      const out = aggregator.add(rec(key, 4));
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ partitionKey: key, aggregated: false });
    }
  });

  it('emits the current container when the next record does not fit, and starts a new one with it', () => {
    // Records of 30 bytes under key "k": 20 fixed + 3 for the table entry + 36 per record (1a 22 | 08 00 | 1a 1e + 30).
    const aggregator = new RecordAggregator({ maxSize: 20 + 3 + 36 * 3 });
    for (let i = 0; i < 3; i++) expect(aggregator.add(rec('k', 30))).toEqual([]);
    expect(aggregator.size).toBe(131);
    const out = aggregator.add(rec('k', 30));
    expect(out).toHaveLength(1);
    expect(out[0]!.data.length).toBe(131);
    expect(out[0]!.userRecords).toHaveLength(3);
    expect(aggregator.count).toBe(1);
  });

  it('sends a record too big to share a container alone and raw, after the pending container', () => {
    const aggregator = new RecordAggregator({ maxSize: 64 });
    aggregator.add(rec('a', 2));
    aggregator.add(rec('b', 2));
    const big = rec('big', 50); // 50 raw bytes fit in 64, but 20 + 5 + 55 aggregated do not
    const out = aggregator.add(big);
    expect(out.map((c) => [c.aggregated, c.userRecords.length])).toEqual([
      [true, 2],
      [false, 1],
    ]);
    expect(out[1]!.data).toBe(big.data);
    expect(out[1]!.partitionKey).toBe('big');
    expect(aggregator.count).toBe(0);
    // With nothing pending, only the big record comes back.
    expect(aggregator.add(rec('big', 5000)).map((c) => c.userRecords.length)).toEqual([1]);
    expect(aggregator.count).toBe(0);
  });

  it('counts sizes in UTF-8 bytes of the keys, not characters', () => {
    const aggregator = new RecordAggregator();
    aggregator.add(rec('ééé', 1));
    aggregator.add(rec('😀', 1));
    expect(aggregator.size).toBe(encodeAggregatedRecord([rec('ééé', 1), rec('😀', 1)]).length);
    expect(aggregator.flush()!.data.length).toBe(20 + (2 + 6) + (2 + 4) + 2 * 7);
  });

  it('wouldFit says whether add() can keep the record in the current container', () => {
    const aggregator = new RecordAggregator({ maxSize: 100 });
    expect(aggregator.wouldFit(rec('k', 40))).toBe(true);
    expect(aggregator.wouldFit(rec('k', 200))).toBe(false); // too big to aggregate at all
    aggregator.add(rec('k', 40));
    expect(aggregator.wouldFit(rec('k', 10))).toBe(true);
    expect(aggregator.wouldFit(rec('k', 40))).toBe(false);
    expect(aggregator.add(rec('k', 40))).toHaveLength(1);
    expect(() => aggregator.wouldFit(rec('', 1))).toThrow(InvalidPartitionKeyError);
  });

  describe.each([
    ['an empty partition key', { partitionKey: '', data: Buffer.from('x') }, InvalidPartitionKeyError],
    ['a 257-character partition key', { partitionKey: 'p'.repeat(257), data: Buffer.from('x') }, InvalidPartitionKeyError],
    ['a non-string partition key', { partitionKey: 7, data: Buffer.from('x') }, InvalidPartitionKeyError],
    ['an invalid explicit hash key', { partitionKey: 'a', explicitHashKey: '-1', data: Buffer.from('x') }, InvalidExplicitHashKeyError],
    ['string data', { partitionKey: 'a', data: 'x' }, InvalidDataError],
    ['no data', { partitionKey: 'a' }, InvalidDataError],
  ])('rejects %s', (_label, bad, errorClass) => {
    it('with a typed error, leaving the aggregator untouched', () => {
      const aggregator = new RecordAggregator({ maxSize: 64 });
      aggregator.add(rec('a', 2));
      aggregator.add(rec('b', 2));
      const [count, size] = [aggregator.count, aggregator.size];
      expect(() => aggregator.add(bad as unknown as AggregatorUserRecord)).toThrow(errorClass);
      expect([aggregator.count, aggregator.size]).toEqual([count, size]);
      // Would-be-full aggregator: the rejected record must not have emitted anything either.
      const out = aggregator.flush()!;
      expect(out.userRecords.map((r) => r.partitionKey)).toEqual(['a', 'b']);
      expect(hex(out.data)).toBe(hex(encodeAggregatedRecord([rec('a', 2), rec('b', 2)])));
    });
  });

  it('keeps exact sizes, limits and order for random sequences (size before flush = emitted bytes; takePending between adds)', () => {
    fc.assert(
      fc.property(
        fc.array(userRecordArbitrary, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 64, max: 3000 }),
        fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant(4294967295)),
        fc.array(fc.nat({ max: 59 }), { maxLength: 4 }),
        (records, maxSize, maxCount, takeAfter) => {
          const aggregator = new RecordAggregator<AggregatorUserRecord<number>>({ maxSize, maxCount });
          /** The records' indices in the order they left the aggregator, emitted or taken back. */
          const handedBack: number[] = [];
          let pending: AggregatorUserRecord<number>[] = [];
          const check = (container: AggregatedRecord<AggregatorUserRecord<number>>) => {
            const { userRecords } = container;
            expect(userRecords.length).toBeGreaterThan(0);
            if (container.aggregated) {
              expect(userRecords.length).toBeGreaterThanOrEqual(2);
              expect(userRecords.length).toBeLessThanOrEqual(maxCount);
              expect(container.data.length).toBeLessThanOrEqual(maxSize);
              expect(container.partitionKey).toBe('a');
              expect(hex(container.data)).toBe(hex(encodeAggregatedRecord(userRecords)));
            } else {
              expect(userRecords).toHaveLength(1);
              expect(container.data).toBe(userRecords[0]!.data);
              expect(container.partitionKey).toBe(userRecords[0]!.partitionKey);
            }
            const first = userRecords[0]!;
            expect(container.explicitHashKey).toBe(first.explicitHashKey ?? partitionKeyToHashKey(first.partitionKey).toString());
            handedBack.push(...userRecords.map((r) => r.context!));
          };
          records.forEach((input, i) => {
            const record = { ...input, context: i };
            const sizeBefore = aggregator.size;
            const countBefore = aggregator.count;
            const out = aggregator.add(record);
            out.forEach(check);
            // A container emitted because the record did not fit has exactly the size reported before.
            if (out.length > 0 && countBefore > 0 && out[0]!.userRecords.at(-1)!.context !== i) {
              expect(out[0]!.data.length).toBe(sizeBefore);
            }
            pending = [...pending, record];
            for (const c of out) pending = pending.slice(c.userRecords.length);
            expect(aggregator.count).toBe(pending.length);
            expect(aggregator.count).toBeLessThan(maxCount);
            expect(aggregator.size).toBe(expectedSize(pending));
            if (takeAfter.includes(i)) {
              const taken = aggregator.takePending();
              expect(taken).toEqual(pending);
              handedBack.push(...taken.map((r) => r.context!));
              pending = [];
              expect([aggregator.count, aggregator.size]).toEqual([0, 0]);
            }
          });
          const sizeBefore = aggregator.size;
          const last = aggregator.flush();
          if (last !== undefined) {
            expect(last.data.length).toBe(sizeBefore);
            check(last);
          }
          // Nothing lost, nothing reordered.
          expect(handedBack).toEqual(records.map((_, i) => i));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('fills containers as far as the limit allows (the next record really did not fit)', () => {
    fc.assert(
      fc.property(fc.array(userRecordArbitrary, { minLength: 2, maxLength: 40 }), fc.integer({ min: 64, max: 2000 }), (records, maxSize) => {
        const aggregator = new RecordAggregator({ maxSize });
        const containers = records.flatMap((r) => aggregator.add(r));
        const last = aggregator.flush();
        if (last) containers.push(last);
        for (let i = 0; i + 1 < containers.length; i++) {
          const next = containers[i + 1]!.userRecords[0]!;
          const grown = [...containers[i]!.userRecords, next];
          expect(encodeAggregatedRecord(grown).length).toBeGreaterThan(maxSize);
        }
      }),
      { numRuns: 100 },
    );
  });
});
