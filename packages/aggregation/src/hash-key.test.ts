import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AggregationError, InvalidExplicitHashKeyError, InvalidHashKeyRangeError, InvalidPartitionKeyError } from './errors.js';
import {
  canonicalExplicitHashKey,
  effectiveHashKey,
  formatHashKeyRange,
  FULL_HASH_KEY_RANGE,
  hashKeyInRange,
  MAX_HASH_KEY,
  parseExplicitHashKey,
  parseHashKeyDecimal,
  parseHashKeyRange,
  partitionKeyToHashKey,
  rangesCoverHashSpace,
  splitHashKeyRange,
  toHashKeyRange,
  validatePartitionKey,
  type HashKeyRange,
} from './hash-key.js';

const TWO_127 = 1n << 127n;

describe('partitionKeyToHashKey', () => {
  it('matches the reference values in kpl.md 1.6 (MD5 as a big-endian uint128)', () => {
    expect(partitionKeyToHashKey('pk1')).toBe(329398341438914906102347661116985167824n);
    expect(partitionKeyToHashKey('pk2')).toBe(122875064651314509700510597659732835739n);
  });

  it('hashes the UTF-8 bytes of any key, including astral characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }), (key) => {
        const hex = createHash('md5').update(Buffer.from(key, 'utf8')).digest('hex');
        expect(partitionKeyToHashKey(key)).toBe(BigInt(`0x${hex}`));
      }),
    );
  });

  it('always lands in [0, 2^128-1]', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256 }), (key) => {
        const h = partitionKeyToHashKey(key);
        expect(h >= 0n && h <= MAX_HASH_KEY).toBe(true);
      }),
    );
  });
});

describe('validatePartitionKey', () => {
  it('accepts 1..256 UTF-16 units', () => {
    expect(() => validatePartitionKey('a')).not.toThrow();
    expect(() => validatePartitionKey('x'.repeat(256))).not.toThrow();
    // 128 astral characters = 256 UTF-16 units = 512 UTF-8 bytes: still valid (Java String.length()).
    expect(() => validatePartitionKey('😀'.repeat(128))).not.toThrow();
  });

  it.each([
    ['empty', ''],
    ['257 characters', 'x'.repeat(257)],
    ['129 astral characters (258 units)', '😀'.repeat(129)],
    ['a lone high surrogate', 'ab\ud800'],
    ['a lone low surrogate', '\udc00ab'],
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
  ])('rejects %s with InvalidPartitionKeyError', (_label, value) => {
    const err = captureError(() => validatePartitionKey(value));
    expect(err).toBeInstanceOf(InvalidPartitionKeyError);
    expect(err).toMatchObject({ code: 'INVALID_PARTITION_KEY', field: 'partitionKey', retriable: false });
  });
});

describe('parseExplicitHashKey / canonicalExplicitHashKey', () => {
  it('parses the bounds and trims whitespace, as the KPL does', () => {
    expect(parseExplicitHashKey('0')).toBe(0n);
    expect(parseExplicitHashKey(MAX_HASH_KEY.toString())).toBe(MAX_HASH_KEY);
    expect(parseExplicitHashKey('  42 \n')).toBe(42n);
    expect(parseExplicitHashKey(`${'0'.repeat(50)}7`)).toBe(7n);
    expect(parseExplicitHashKey(5n)).toBe(5n);
  });

  it('returns the canonical decimal the KPL would send', () => {
    expect(canonicalExplicitHashKey('999')).toBe('999');
    expect(canonicalExplicitHashKey(' 0042 ')).toBe('42');
    expect(canonicalExplicitHashKey('000')).toBe('0');
    expect(canonicalExplicitHashKey(MAX_HASH_KEY.toString())).toBe(MAX_HASH_KEY.toString());
    expect(canonicalExplicitHashKey(TWO_127)).toBe(TWO_127.toString());
  });

  it('agrees with BigInt on every value in range', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_HASH_KEY }), fc.nat({ max: 3 }), (n, zeros) => {
        const text = '0'.repeat(zeros) + n.toString();
        expect(parseExplicitHashKey(text)).toBe(n);
        expect(canonicalExplicitHashKey(text)).toBe(n.toString());
      }),
    );
  });

  it.each([
    ['2^128', (MAX_HASH_KEY + 1n).toString()],
    ['a 40-digit number', '9'.repeat(40)],
    ['a negative number', '-1'],
    ['a negative number with leading zeros', '-0001'],
    ['two signs', '+-5'],
    ['a sign alone', '+'],
    ['a sign after the digits', '5-'],
    ['a space after the sign', '+ 5'],
    ['a non-breaking space (Java trim keeps it)', '\u00a05'],
    ['a byte order mark', '\ufeff5'],
    ['an ideographic space', '\u30005'],
    ['a line separator', '5\u2028'],
    ['Arabic-Indic digits (BigInteger takes them; we take ASCII only)', '\u0665'],
    ['fullwidth digits', '\uff13'],
    ['hex', '0x10'],
    ['a decimal point', '1.5'],
    ['an exponent', '1e5'],
    ['empty', ''],
    ['blank', '   '],
    ['a number type', 5],
    ['a negative bigint', -1n],
    ['a bigint above the range', MAX_HASH_KEY + 1n],
    ['null', null],
  ])('rejects %s with InvalidExplicitHashKeyError', (_label, value) => {
    expect(captureError(() => parseExplicitHashKey(value))).toBeInstanceOf(InvalidExplicitHashKeyError);
    expect(captureError(() => canonicalExplicitHashKey(value))).toMatchObject({ code: 'INVALID_EXPLICIT_HASH_KEY', field: 'explicitHashKey' });
  });
});

describe('explicit hash keys as the KPL reads them (String.trim, then new BigInteger)', () => {
  it('accepts a leading + or - and canonicalises it away ("-0" is 0)', () => {
    expect(parseExplicitHashKey('+5')).toBe(5n);
    expect(parseExplicitHashKey('-0')).toBe(0n);
    expect(parseExplicitHashKey('-000')).toBe(0n);
    expect(parseExplicitHashKey(`+${'0'.repeat(45)}${MAX_HASH_KEY}`)).toBe(MAX_HASH_KEY);
    expect(canonicalExplicitHashKey('+5')).toBe('5');
    expect(canonicalExplicitHashKey('-0')).toBe('0');
    expect(canonicalExplicitHashKey(' +0042 ')).toBe('42');
    expect(captureError(() => parseExplicitHashKey(`+${MAX_HASH_KEY + 1n}`))).toBeInstanceOf(InvalidExplicitHashKeyError);
  });

  it('trims U+0000..U+0020 at both ends (Java String.trim), controls included, and nothing else', () => {
    expect(parseExplicitHashKey('\u00005')).toBe(5n);
    expect(parseExplicitHashKey('\u0001 \t5\r\n\u001f')).toBe(5n);
    expect(canonicalExplicitHashKey('\u0000\u0020-0\u0000')).toBe('0');
    // Not "trimmed" in between: the sign and the digits must be contiguous.
    expect(captureError(() => parseExplicitHashKey('- 5'))).toBeInstanceOf(InvalidExplicitHashKeyError);
  });

  it('agrees with a model of Java (trim <= U+0020, BigInteger with ASCII digits, [0, 2^128-1]) on random strings', () => {
    const javaModel = (s: string): bigint | undefined => {
      let a = 0;
      let b = s.length;
      while (a < b && s.charCodeAt(a) <= 0x20) a++;
      while (b > a && s.charCodeAt(b - 1) <= 0x20) b--;
      const t = s.slice(a, b);
      if (!/^[+-]?[0-9]+$/.test(t)) return undefined;
      const v = BigInt(t.replace(/^\+/, ''));
      return v >= 0n && v <= MAX_HASH_KEY ? v : undefined;
    };
    const unit = fc.constantFrom('0', '0', '1', '5', '9', '+', '-', ' ', '\t', '\u0000', '\u001f', '\u00a0', '\ufeff', '\u3000', 'x', '\u0665');
    const text = fc.oneof(
      fc.array(unit, { maxLength: 12 }).map((a) => a.join('')),
      fc.tuple(fc.constantFrom('', ' ', '\u0000', '\u00a0'), fc.constantFrom('', '+', '-'), fc.nat({ max: 3 }), fc.bigInt({ min: 0n, max: MAX_HASH_KEY + 2n }), fc.constantFrom('', '\n', '\ufeff')).map(
        ([pre, sign, zeros, n, post]) => `${pre}${sign}${'0'.repeat(zeros)}${n}${post}`,
      ),
    );
    fc.assert(
      fc.property(text, (s) => {
        const expected = javaModel(s);
        if (expected === undefined) {
          expect(captureError(() => parseExplicitHashKey(s))).toBeInstanceOf(InvalidExplicitHashKeyError);
          expect(captureError(() => canonicalExplicitHashKey(s))).toBeInstanceOf(InvalidExplicitHashKeyError);
        } else {
          expect(parseExplicitHashKey(s)).toBe(expected);
          expect(canonicalExplicitHashKey(s)).toBe(expected.toString(10));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parseHashKeyDecimal reads a key table entry like new BigInteger(entry): signs and zeros yes, whitespace no', () => {
    expect(parseHashKeyDecimal('+5')).toBe(5n);
    expect(parseHashKeyDecimal('-0')).toBe(0n);
    expect(parseHashKeyDecimal(`${'0'.repeat(60)}${MAX_HASH_KEY}`)).toBe(MAX_HASH_KEY);
    expect(parseHashKeyDecimal('0')).toBe(0n);
    for (const bad of [' 5', '5 ', '\u00005', '', '+', '-1', (MAX_HASH_KEY + 1n).toString(), '9'.repeat(40), 'abc', '1e3', '\u0665']) {
      expect(parseHashKeyDecimal(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});

describe('effectiveHashKey', () => {
  it('uses the explicit hash key when given, else MD5 of the partition key', () => {
    expect(effectiveHashKey('pk1')).toBe(329398341438914906102347661116985167824n);
    expect(effectiveHashKey('pk1', '7')).toBe(7n);
    expect(effectiveHashKey('pk1', 9n)).toBe(9n);
    expect(() => effectiveHashKey('pk1', 'nope')).toThrow(InvalidExplicitHashKeyError);
  });
});

describe('hash key ranges', () => {
  it('parses and formats the wire form (decimal strings)', () => {
    const wire = { startingHashKey: '0', endingHashKey: (TWO_127 - 1n).toString() };
    const parsed = parseHashKeyRange(wire);
    expect(parsed).toEqual({ startingHashKey: 0n, endingHashKey: TWO_127 - 1n });
    expect(formatHashKeyRange(parsed)).toEqual(wire);
  });

  it('toHashKeyRange accepts strings or bigints', () => {
    expect(toHashKeyRange({ startingHashKey: '5', endingHashKey: '10' })).toEqual({ startingHashKey: 5n, endingHashKey: 10n });
    expect(toHashKeyRange({ startingHashKey: 5n, endingHashKey: 10n })).toEqual({ startingHashKey: 5n, endingHashKey: 10n });
  });

  it.each([
    ['start > end', { startingHashKey: '10', endingHashKey: '5' }],
    ['end above 2^128-1', { startingHashKey: '0', endingHashKey: (MAX_HASH_KEY + 1n).toString() }],
    ['a non-decimal bound', { startingHashKey: 'abc', endingHashKey: '5' }],
    ['a missing bound', { startingHashKey: '0' }],
    ['negative bigints', { startingHashKey: -1n, endingHashKey: 5n }],
    ['bigints out of order', { startingHashKey: 6n, endingHashKey: 5n }],
    ['not an object', 'range'],
  ])('rejects %s with InvalidHashKeyRangeError', (_label, value) => {
    const err = captureError(() => toHashKeyRange(value as unknown as HashKeyRange));
    expect(err).toBeInstanceOf(InvalidHashKeyRangeError);
    expect(err).toMatchObject({ code: 'INVALID_HASH_KEY_RANGE' });
  });

  it('hashKeyInRange is inclusive at both ends', () => {
    const range = { startingHashKey: 10n, endingHashKey: 20n };
    expect([9n, 10n, 15n, 20n, 21n].map((h) => hashKeyInRange(h, range))).toEqual([false, true, true, true, false]);
  });
});

describe('splitHashKeyRange', () => {
  it('splits the full space in two at 2^127, as CreateStream does for two shards', () => {
    expect(splitHashKeyRange(FULL_HASH_KEY_RANGE, 2)).toEqual([
      { startingHashKey: 0n, endingHashKey: TWO_127 - 1n },
      { startingHashKey: TWO_127, endingHashKey: MAX_HASH_KEY },
    ]);
  });

  it('gives the remainder to the last range and always covers the input exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), (count) => {
        const ranges = splitHashKeyRange(FULL_HASH_KEY_RANGE, count);
        expect(ranges).toHaveLength(count);
        expect(rangesCoverHashSpace(ranges)).toBe(true);
        const widths = ranges.map((r) => r.endingHashKey - r.startingHashKey + 1n);
        const step = (MAX_HASH_KEY + 1n) / BigInt(count);
        expect(widths.slice(0, -1).every((w) => w === step)).toBe(true);
        expect(widths.at(-1)! >= step).toBe(true);
      }),
    );
  });

  it('splits a sub-range', () => {
    expect(splitHashKeyRange({ startingHashKey: 10n, endingHashKey: 19n }, 3)).toEqual([
      { startingHashKey: 10n, endingHashKey: 12n },
      { startingHashKey: 13n, endingHashKey: 15n },
      { startingHashKey: 16n, endingHashKey: 19n },
    ]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects count %s', (count) => {
    expect(captureError(() => splitHashKeyRange(FULL_HASH_KEY_RANGE, count))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'count' });
  });

  it('rejects more ranges than hash keys', () => {
    expect(captureError(() => splitHashKeyRange({ startingHashKey: 0n, endingHashKey: 2n }, 4))).toBeInstanceOf(AggregationError);
  });
});

describe('rangesCoverHashSpace', () => {
  const halves = splitHashKeyRange(FULL_HASH_KEY_RANGE, 2);

  it('accepts an exact cover in any order', () => {
    expect(rangesCoverHashSpace(halves)).toBe(true);
    expect(rangesCoverHashSpace([...halves].reverse())).toBe(true);
    expect(rangesCoverHashSpace([FULL_HASH_KEY_RANGE])).toBe(true);
  });

  it('rejects gaps, overlaps, short covers, inverted ranges and nothing', () => {
    expect(rangesCoverHashSpace([])).toBe(false);
    expect(rangesCoverHashSpace([halves[0]!])).toBe(false);
    expect(rangesCoverHashSpace([halves[0]!, { ...halves[1]!, startingHashKey: TWO_127 + 1n }])).toBe(false);
    expect(rangesCoverHashSpace([halves[0]!, { ...halves[1]!, startingHashKey: TWO_127 - 1n }])).toBe(false);
    expect(rangesCoverHashSpace([...halves, halves[1]!])).toBe(false);
    expect(rangesCoverHashSpace([{ startingHashKey: 0n, endingHashKey: MAX_HASH_KEY - 1n }])).toBe(false);
    expect(
      rangesCoverHashSpace([
        { startingHashKey: 0n, endingHashKey: 5n },
        { startingHashKey: 6n, endingHashKey: 3n },
        { startingHashKey: 4n, endingHashKey: MAX_HASH_KEY },
      ]),
    ).toBe(false);
  });
});

function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
