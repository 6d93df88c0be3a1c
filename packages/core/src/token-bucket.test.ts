import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('starts full, refills at its rate up to its capacity', () => {
    const b = new TokenBucket(100, 100, 0);
    expect(b.tryTake(100, 0)).toBe(true);
    expect(b.tryTake(1, 0)).toBe(false);
    expect(b.available(500)).toBe(50);
    expect(b.available(10_000)).toBe(100);
  });

  it('never refills beyond its capacity after a take', () => {
    const b = new TokenBucket(100, 50, 0);
    expect(b.available(0)).toBe(50);
    b.takeDebt(50, 0);
    expect(b.available(100)).toBeCloseTo(10);
    expect(b.available(10_000)).toBe(50);
  });

  it('lets a forced take go into debt and reports the wait', () => {
    const b = new TokenBucket(1000, 1000, 0);
    b.takeDebt(3000, 0);
    expect(b.available(0)).toBe(-2000);
    expect(b.msUntil(1, 0)).toBe(2001);
    expect(b.tryTake(1, 2000)).toBe(false);
    expect(b.tryTake(1, 2001)).toBe(true);
  });

  it('is unlimited with an infinite rate and can be reconfigured', () => {
    const b = new TokenBucket(Infinity, Infinity, 0);
    expect(b.unlimited).toBe(true);
    expect(b.tryTake(1e12, 0)).toBe(true);
    b.reconfigure(10, 10, 0);
    expect(b.unlimited).toBe(false);
    expect(b.available(0)).toBe(10);
    expect(b.tryTake(11, 0)).toBe(false);
  });
});
