import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_HASH_KEY, partitionKeyToHashKey } from '@kinesis-kit/aggregation';
import { effectiveHashKeyHex, hashKeyToHex, partitionKeyHashHex } from './hash-routing.js';

describe('hex hash keys', () => {
  it('equal partitionKeyToHashKey for any partition key', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 256, unit: 'grapheme' }), (pk) => {
        expect(BigInt(`0x${partitionKeyHashHex(pk)}`)).toBe(partitionKeyToHashKey(pk));
      }),
    );
  });

  it('compare as strings like the numbers they spell', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_HASH_KEY }), fc.bigInt({ min: 0n, max: MAX_HASH_KEY }), (a, b) => {
        expect(hashKeyToHex(a) < hashKeyToHex(b)).toBe(a < b);
      }),
    );
  });

  it('prefer the explicit hash key', () => {
    expect(effectiveHashKeyHex('ignored', '255')).toBe(`${'0'.repeat(30)}ff`);
    expect(effectiveHashKeyHex('k')).toBe(partitionKeyHashHex('k'));
  });
});
