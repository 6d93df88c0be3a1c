import { TokenBucket } from '@kinesis-kit/core';

export interface ShardRateLimitOptions {
  /** KPL RateLimit, percent of the shard limit. */
  rateLimit: number;
  recordsPerSecond: number;
  bytesPerSecond: number;
  /** The largest single Kinesis record the bucket must be able to pass. */
  largestRecordBytes: number;
}

/**
 * One shard's two buckets (the KPL's ShardLimiter): Kinesis records and bytes (partition key +
 * data, as the backend counts), each refilled at rateLimit% of the shard's write limit and holding
 * one second of it (at least one largest record, so nothing can be stuck forever).
 */
export class ShardRateLimiter {
  private readonly records: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(options: ShardRateLimitOptions, now: number) {
    const share = options.rateLimit / 100;
    const recordRate = options.recordsPerSecond * share;
    const byteRate = options.bytesPerSecond * share;
    this.records = new TokenBucket(recordRate, Math.max(1, recordRate), now);
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
