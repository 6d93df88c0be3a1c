import { describe, expect, it } from 'vitest';
import { ShardRateLimiter } from './rate-limiter.js';

const shard = { recordsPerSecond: 1000, bytesPerSecond: 1 << 20, largestRecordBytes: 51200 };

describe('ShardRateLimiter', () => {
  it('allows rateLimit% of a shard: 1500 records/s at 150%, after a burst of 1000 (the KPL bucket)', () => {
    const l = new ShardRateLimiter({ ...shard, rateLimit: 150 }, 0);
    let passed = 0;
    for (let t = 0; t <= 1000; t++) while (l.tryTake(10, t)) passed++;
    // A full bucket of 1000 records plus one second of refill at 1500/s.
    expect(passed).toBeGreaterThanOrEqual(2499);
    expect(passed).toBeLessThanOrEqual(2501);
  });

  it.each([1, 100, 150, 10_000])('rateLimit %i (percent): the record bucket holds 1000 Kinesis records, as the KPL\'s (the shard limit, not the rate)', (rateLimit) => {
    const l = new ShardRateLimiter({ ...shard, rateLimit }, 0);
    let burst = 0;
    while (burst < 100_000 && l.tryTake(10, 0)) burst++;
    expect(burst).toBe(1000);
  });

  it('meters bytes and always lets the largest record through eventually', () => {
    const l = new ShardRateLimiter({ ...shard, rateLimit: 1 }, 0);
    expect(l.tryTake(51200, 0)).toBe(true);
    expect(l.tryTake(51200, 1)).toBe(false);
    // 1% of 1 MiB/s refills 51,200 bytes in about 4.9 s.
    expect(l.tryTake(51200, 5000)).toBe(true);
  });
});
