import { describe, expect, it } from 'vitest';
import { ShardRateLimiter } from './rate-limiter.js';

describe('ShardRateLimiter', () => {
  it('allows rateLimit% of a shard: 1500 records/s at 150%', () => {
    const l = new ShardRateLimiter({ rateLimit: 150, recordsPerSecond: 1000, bytesPerSecond: 1 << 20, largestRecordBytes: 51200 }, 0);
    let passed = 0;
    for (let t = 0; t <= 1000; t++) while (l.tryTake(10, t)) passed++;
    // One second of burst plus one second of refill.
    expect(passed).toBeGreaterThanOrEqual(2999);
    expect(passed).toBeLessThanOrEqual(3001);
  });

  it('meters bytes and always lets the largest record through eventually', () => {
    const l = new ShardRateLimiter({ rateLimit: 1, recordsPerSecond: 1000, bytesPerSecond: 1 << 20, largestRecordBytes: 51200 }, 0);
    expect(l.tryTake(51200, 0)).toBe(true);
    expect(l.tryTake(51200, 1)).toBe(false);
    // 1% of 1 MiB/s refills 51,200 bytes in about 4.9 s.
    expect(l.tryTake(51200, 5000)).toBe(true);
  });
});
