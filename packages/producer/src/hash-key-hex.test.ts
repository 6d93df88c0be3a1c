import { MAX_HASH_KEY, partitionKeyToHashKey } from '@kinesis-kit/aggregation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashKeyToHex, hexToHashKey, partitionKeyHashHex } from './hash-key-hex.js';

describe('hash keys as hex', () => {
  it('partitionKeyHashHex is the aggregation package MD5 hash key, as 32 hex digits (UTF-8 keys included)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 256 }), (key) => {
        const hex = partitionKeyHashHex(key);
        expect(hex).toMatch(/^[0-9a-f]{32}$/);
        expect(hexToHashKey(hex)).toBe(partitionKeyToHashKey(key));
      }),
    );
    expect(partitionKeyHashHex('a')).toBe('0cc175b9c0f1b6a831c399e269772661');
  });

  it('fixed-width hex compares like the numbers it encodes', () => {
    const key = fc.bigInt({ min: 0n, max: MAX_HASH_KEY });
    fc.assert(
      fc.property(key, key, (a, b) => {
        const [ha, hb] = [hashKeyToHex(a), hashKeyToHex(b)];
        expect(hexToHashKey(ha)).toBe(a);
        expect(ha < hb).toBe(a < b);
        expect(ha === hb).toBe(a === b);
      }),
    );
    expect(hashKeyToHex(0n)).toBe('0'.repeat(32));
    expect(hashKeyToHex(MAX_HASH_KEY)).toBe('f'.repeat(32));
  });
});
