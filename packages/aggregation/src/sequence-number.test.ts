import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidSequenceNumberError } from './errors.js';
import {
  compareExtendedSequenceNumbers,
  compareSequenceNumbers,
  isSentinel,
  isSequenceNumber,
  SentinelCheckpoint,
  validateExtendedSequenceNumber,
  type ExtendedSequenceNumber,
} from './sequence-number.js';

const esn = (sequenceNumber: string, subSequenceNumber?: number): ExtendedSequenceNumber =>
  subSequenceNumber === undefined ? { sequenceNumber } : { sequenceNumber, subSequenceNumber };
const sign = (n: number) => Math.sign(n);

/** A real Kinesis sequence number is 56 digits. */
const REAL = '49590338271490256608559692538361571095921575989136588898';

describe('compareExtendedSequenceNumbers', () => {
  it('orders sentinels AT_TIMESTAMP < TRIM_HORIZON < LATEST < numbers < SHARD_END', () => {
    const ordered = [esn('AT_TIMESTAMP'), esn('TRIM_HORIZON'), esn('LATEST'), esn('0'), esn('1'), esn(REAL), esn('9'.repeat(128)), esn('SHARD_END')];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(sign(compareExtendedSequenceNumbers(ordered[i]!, ordered[j]!)), `${ordered[i]!.sequenceNumber} vs ${ordered[j]!.sequenceNumber}`).toBe(
          sign(i - j),
        );
      }
    }
  });

  it('puts SHARD_END above even a 128-digit sequence number', () => {
    expect(compareExtendedSequenceNumbers(esn('SHARD_END'), esn('9'.repeat(128), 5))).toBeGreaterThan(0);
    expect(compareExtendedSequenceNumbers(esn('9'.repeat(128), 2 ** 31), esn('SHARD_END'))).toBeLessThan(0);
  });

  it('breaks ties on the sub-sequence number, absent counting as 0', () => {
    expect(compareExtendedSequenceNumbers(esn(REAL, 0), esn(REAL, 1))).toBeLessThan(0);
    expect(compareExtendedSequenceNumbers(esn(REAL, 7), esn(REAL, 3))).toBeGreaterThan(0);
    expect(compareExtendedSequenceNumbers(esn(REAL), esn(REAL, 0))).toBe(0);
    expect(compareExtendedSequenceNumbers(esn(REAL, 2), esn(REAL, 2))).toBe(0);
    // The sequence number decides before the sub-sequence number does.
    expect(compareExtendedSequenceNumbers(esn('10', 0), esn('9', 999))).toBeGreaterThan(0);
  });

  it('orders equal sentinels by sub-sequence number, as the KCL does, except SHARD_END', () => {
    expect(compareExtendedSequenceNumbers(esn('LATEST', 5), esn('LATEST', 1))).toBeGreaterThan(0);
    expect(compareExtendedSequenceNumbers(esn('TRIM_HORIZON', 0), esn('TRIM_HORIZON', 1))).toBeLessThan(0);
    expect(compareExtendedSequenceNumbers(esn('AT_TIMESTAMP', 2), esn('AT_TIMESTAMP', 2))).toBe(0);
    expect(compareExtendedSequenceNumbers(esn('AT_TIMESTAMP'), esn('AT_TIMESTAMP', 0))).toBe(0);
    // The sentinel decides before the sub-sequence number does.
    expect(compareExtendedSequenceNumbers(esn('LATEST', 0), esn('TRIM_HORIZON', 9))).toBeGreaterThan(0);
    // ExtendedSequenceNumber.compareTo returns 0 for SHARD_END vs SHARD_END before looking at sub-sequence numbers.
    expect(compareExtendedSequenceNumbers(esn('SHARD_END'), esn('SHARD_END', 3))).toBe(0);
    expect(compareExtendedSequenceNumbers(esn('SHARD_END', 7), esn('SHARD_END', 3))).toBe(0);
  });

  it('compares huge numbers numerically, leading zeros included', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 100n }), fc.bigInt({ min: 0n, max: 10n ** 100n }), fc.nat({ max: 3 }), (a, b, zeros) => {
        const expected = a === b ? 0 : a < b ? -1 : 1;
        expect(sign(compareExtendedSequenceNumbers(esn('0'.repeat(zeros) + a.toString()), esn(b.toString())))).toBe(expected);
        expect(sign(compareSequenceNumbers(a.toString(), '0'.repeat(zeros) + b.toString()))).toBe(expected);
      }),
    );
  });

  it('is antisymmetric and transitive (sorting agrees with a reference order)', () => {
    const arbitrary = fc.oneof(
      fc.tuple(fc.constantFrom(...Object.values(SentinelCheckpoint)), fc.option(fc.nat({ max: 3 }), { nil: undefined })).map(([s, sub]) => esn(s, sub)),
      fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 60n }), fc.nat({ max: 5 })).map(([n, sub]) => esn(n.toString(), sub)),
    );
    const rank = (e: ExtendedSequenceNumber): [number, bigint, number] => {
      const s = e.sequenceNumber;
      // KCL compareTo: SHARD_END ties with SHARD_END; anything else ties by sub-sequence number.
      if (s === 'AT_TIMESTAMP') return [-3, 0n, e.subSequenceNumber ?? 0];
      if (s === 'TRIM_HORIZON') return [-2, 0n, e.subSequenceNumber ?? 0];
      if (s === 'LATEST') return [-1, 0n, e.subSequenceNumber ?? 0];
      if (s === 'SHARD_END') return [1, 0n, 0];
      return [0, BigInt(s), e.subSequenceNumber ?? 0];
    };
    const reference = (a: ExtendedSequenceNumber, b: ExtendedSequenceNumber) => {
      const [x, y] = [rank(a), rank(b)];
      for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
      return 0;
    };
    fc.assert(
      fc.property(fc.array(arbitrary, { maxLength: 30 }), (values) => {
        for (const a of values) for (const b of values) expect(sign(compareExtendedSequenceNumbers(a, b))).toBe(reference(a, b));
      }),
    );
  });

  it.each([
    ['an empty string', ''],
    ['a negative number', '-5'],
    ['a decimal point', '1.5'],
    ['lower-case sentinel', 'latest'],
    ['a number type', 5],
    ['undefined', undefined],
  ])('throws InvalidSequenceNumberError for %s', (_label, value) => {
    expect(() => compareExtendedSequenceNumbers(esn(value as string), esn('1'))).toThrow(InvalidSequenceNumberError);
    expect(() => compareExtendedSequenceNumbers(esn('1'), esn(value as string))).toThrow(InvalidSequenceNumberError);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', '1'],
  ])('throws InvalidSequenceNumberError (not a TypeError) when a side is %s', (_label, value) => {
    const bad = value as unknown as ExtendedSequenceNumber;
    expect(() => compareExtendedSequenceNumbers(bad, esn('1'))).toThrow(InvalidSequenceNumberError);
    expect(() => compareExtendedSequenceNumbers(esn('1'), bad)).toThrow(InvalidSequenceNumberError);
  });
});

describe('compareSequenceNumbers', () => {
  it('rejects sentinels and garbage with InvalidSequenceNumberError', () => {
    expect(() => compareSequenceNumbers('LATEST', '1')).toThrow(InvalidSequenceNumberError);
    expect(() => compareSequenceNumbers('1', 'abc')).toThrow(InvalidSequenceNumberError);
  });
});

describe('predicates and validation', () => {
  it('isSentinel recognises exactly the four sentinels', () => {
    expect(Object.values(SentinelCheckpoint).every(isSentinel)).toBe(true);
    for (const other of ['latest', 'SHARD_END ', '123', 'hasOwnProperty', '__proto__', '']) expect(isSentinel(other)).toBe(false);
  });

  it('isSequenceNumber accepts 1..128 decimal digits only', () => {
    expect(isSequenceNumber(REAL)).toBe(true);
    expect(isSequenceNumber('0')).toBe(true);
    expect(isSequenceNumber('9'.repeat(128))).toBe(true);
    for (const other of ['9'.repeat(129), '', 'LATEST', '1a', ' 1', 12]) expect(isSequenceNumber(other)).toBe(false);
  });

  it('validateExtendedSequenceNumber accepts numbers and sentinels with valid sub-sequence numbers', () => {
    expect(() => validateExtendedSequenceNumber(esn(REAL, 3))).not.toThrow();
    expect(() => validateExtendedSequenceNumber(esn('TRIM_HORIZON'))).not.toThrow();
  });

  it.each([
    ['a bad sequence number', esn('abc')],
    ['a negative sub-sequence number', esn(REAL, -1)],
    ['a fractional sub-sequence number', esn(REAL, 1.5)],
    ['a non-number sub-sequence number', { sequenceNumber: REAL, subSequenceNumber: '1' as unknown as number }],
    ['null', null as unknown as ExtendedSequenceNumber],
    ['undefined', undefined as unknown as ExtendedSequenceNumber],
    ['a bare sequence number string', REAL as unknown as ExtendedSequenceNumber],
  ])('validateExtendedSequenceNumber rejects %s', (_label, value) => {
    let caught: unknown;
    try {
      validateExtendedSequenceNumber(value);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidSequenceNumberError);
    expect(caught).toMatchObject({ code: 'INVALID_SEQUENCE_NUMBER', field: 'sequenceNumber', retriable: false });
  });
});
