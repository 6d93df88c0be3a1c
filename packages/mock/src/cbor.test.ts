import { cbor } from '@smithy/core/cbor';
import { describe, expect, it } from 'vitest';
import { encodeCborTextMap } from './cbor.js';

describe('encodeCborTextMap', () => {
  it('encodes text maps that a CBOR decoder reads back, across every length encoding', () => {
    for (const n of [0, 23, 24, 255, 256, 65_535, 65_536]) {
      const map = { __type: 'SerializationException', message: 'é'.repeat(n / 2) + 'x'.repeat(n % 2), [`k${n}`]: '' };
      expect(cbor.deserialize(encodeCborTextMap(map))).toEqual(map);
    }
  });
});
