import { TokenBucket } from '@kinesis-kit/core';

export interface ShardRateLimitOptions {
  /** KPL RateLimit, percent of the shard limit. */
  rateLimit: number;
  /** The shard's write limits; the record bucket also holds recordsPerSecond records. */
  recordsPerSecond: number;
  bytesPerSecond: number;
  /** The largest single Kinesis record the bucket must be able to pass. */
  largestRecordBytes: number;
}

/**
 * One shard's two buckets (the KPL's ShardLimiter): Kinesis records and bytes (partition key +
 * data, as the backend counts), each refilled at rateLimit% of the shard's write limit. The record
 * bucket holds the shard's limit, 1000 records, whatever the rate, as the KPL's does (kpl.md §3.4);
 * the byte bucket holds one second of its refill, and at least one largest record so that nothing
 * can be stuck forever (a deliberate difference, see docs/producing.md).
 */
export class ShardRateLimiter {
  private readonly records: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(options: ShardRateLimitOptions, now: number) {
    const share = options.rateLimit / 100;
    const recordRate = options.recordsPerSecond * share;
    const byteRate = options.bytesPerSecond * share;
    this.records = new TokenBucket(recordRate, options.recordsPerSecond, now);
    this.bytes = new TokenBucket(byteRate, Math.max(byteRate, options.largestRecordBytes), now);
  }

  /** Takes one record and `size` bytes if both are available. */
  tryTake(size: number, now: number): boolean {
    if (this.records.available(now) < 1 || this.bytes.available(now) < size) return false;
    this.records.takeDebt(1, now);
    this.bytes.takeDebt(size, now);
    return true;
  }
}
