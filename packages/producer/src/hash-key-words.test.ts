import { hash } from 'node:crypto';
import { MAX_HASH_KEY, partitionKeyToHashKey } from '@kinesis-kit/aggregation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareWords, hashKeyToWords, partitionKeyHashWords, wordsToHashKey } from './hash-key-words.js';

describe('hash keys as words', () => {
  it('partitionKeyHashWords is the aggregation package MD5 hash key (short ASCII, long and UTF-8 keys)', () => {
    const keys = fc.oneof(
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 80 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 256 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
    );
    fc.assert(
      fc.property(keys, (key) => {
        expect(wordsToHashKey(partitionKeyHashWords(key))).toBe(partitionKeyToHashKey(key));
      }),
      { numRuns: 2000 },
    );
    // Every length around the one-block limit (55 bytes), and the RFC 1321 vectors.
    for (let n = 0; n <= 130; n++) {
      const key = 'k'.repeat(n);
      expect(wordsToHashKey(partitionKeyHashWords(key)), `length ${n}`).toBe(BigInt(`0x${hash('md5', key, 'hex')}`));
    }
    expect(wordsToHashKey(partitionKeyHashWords('a'))).toBe(0x0cc175b9c0f1b6a831c399e269772661n);
    expect(wordsToHashKey(partitionKeyHashWords('message digest'))).toBe(0xf96b697d7cb7938d525a2f31aaf161d0n);
  });

  it('round-trips bigints and compares like the numbers they encode', () => {
    const key = fc.bigInt({ min: 0n, max: MAX_HASH_KEY });
    fc.assert(
      fc.property(key, key, (a, b) => {
        const wa = hashKeyToWords(a);
        expect(wordsToHashKey(wa)).toBe(a);
        expect(Math.sign(compareWords(wa, hashKeyToWords(b), 0))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
    expect(Array.from(hashKeyToWords(MAX_HASH_KEY))).toEqual([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    const table = new Uint32Array(8);
    hashKeyToWords(5n, table.subarray(4));
    expect(compareWords(hashKeyToWords(5n), table, 4)).toBe(0);
  });
});
