import { describe, expect, it } from 'vitest';
import { seededRandom, shuffled } from './random.js';

describe('seededRandom', () => {
  it('repeats its sequence for a seed and stays in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const values = Array.from({ length: 1000 }, () => a());
    expect(values).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(seededRandom(43)()).not.toBe(seededRandom(42)());
  });
});

describe('shuffled', () => {
  it('returns a permutation and leaves the input alone', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const out = shuffled(items, seededRandom(7));
    expect(items).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(out).not.toEqual(items);
    expect([...out].sort((x, y) => x - y)).toEqual(items);
  });

  it('is reproducible from a seed', () => {
    const items = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect(shuffled(items, seededRandom(1))).toEqual(shuffled(items, seededRandom(1)));
  });

  it('reaches every order of three items', () => {
    const random = seededRandom(3);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(shuffled([1, 2, 3], random).join(''));
    expect(seen.size).toBe(6);
  });

  it('handles empty and single-item lists', () => {
    expect(shuffled([], Math.random)).toEqual([]);
    expect(shuffled(['x'], Math.random)).toEqual(['x']);
  });
});
