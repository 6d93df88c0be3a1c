import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatSequenceNumber, parseSequenceNumber, SEQUENCE_NUMBER_LENGTH } from './sequence-number.js';

describe('sequence numbers', () => {
  it('are 56-digit decimals that round-trip shard index and counter', () => {
    const s = formatSequenceNumber(3, 12345);
    expect(s).toHaveLength(SEQUENCE_NUMBER_LENGTH);
    expect(s).toMatch(/^49\d{54}$/);
    expect(parseSequenceNumber(s)).toEqual({ shardIndex: 3, counter: 12345 });
  });

  it('increase strictly with the counter within a shard and never collide across shards', () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(2 ** 40), fc.nat(2 ** 40), (shard, a, b) => {
        fc.pre(a !== b);
        const sa = BigInt(formatSequenceNumber(shard, a));
        const sb = BigInt(formatSequenceNumber(shard, b));
        expect(sa < sb).toBe(a < b);
        expect(formatSequenceNumber(shard, a)).not.toBe(formatSequenceNumber(shard + 1, a));
      }),
    );
  });

  it('rejects strings that are not ours', () => {
    expect(parseSequenceNumber('123')).toBeUndefined();
    expect(parseSequenceNumber('x'.repeat(56))).toBeUndefined();
    expect(parseSequenceNumber(`50${'0'.repeat(54)}`)).toBeUndefined();
    expect(parseSequenceNumber(`49${'9'.repeat(54)}`)).toBeUndefined();
  });
});
