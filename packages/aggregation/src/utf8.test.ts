import { describe, expect, it } from 'vitest';
import { utf8ByteLength } from './utf8.js';

describe('utf8ByteLength', () => {
  it('equals Buffer.byteLength for ASCII, Latin-1, multi-byte and astral keys', () => {
    for (const key of ['', 'a', 'order-42', 'clé', 'é'.repeat(3), '日本語', '🔑k', 'x'.repeat(256)]) {
      expect(utf8ByteLength(key)).toBe(Buffer.byteLength(key, 'utf8'));
    }
  });
});
