import { describe, expect, it } from 'vitest';
import { decodeShardIterator, encodeShardIterator } from './shard-iterator.js';

describe('shard iterators', () => {
  it('round-trip and stay within the 512-character limit', () => {
    const state = { streamName: 'x'.repeat(128), generation: 12, shardIndex: 99_999, counter: 2 ** 50, issuedAtMs: 1_795_000_000_000 };
    const it = encodeShardIterator(state);
    expect(it.length).toBeLessThanOrEqual(512);
    expect(decodeShardIterator(it)).toEqual(state);
  });

  it('reject garbage', () => {
    expect(decodeShardIterator('AAAA')).toBeUndefined();
    expect(decodeShardIterator(Buffer.from('k1|a|b|c|d|s').toString('base64'))).toBeUndefined();
  });
});
