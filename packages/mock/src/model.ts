import { formatHashKeyRange, type HashKeyRange, type HashKeyRangeStrings } from '@kinesis-kit/aggregation';
import { TokenBucket } from '@kinesis-kit/core';
import { RecordLog } from './record-log.js';
import { formatWithPrefix, sequenceNumberPrefix } from './sequence-number.js';
import { hashKeyToHex } from './hash-routing.js';
import type { Limits } from './limits.js';

export type StreamStatus = 'CREATING' | 'ACTIVE' | 'UPDATING' | 'DELETING';
export type StreamMode = 'PROVISIONED' | 'ON_DEMAND';
export type ConsumerStatus = 'CREATING' | 'ACTIVE' | 'DELETING';

/** Something waiting for a shard to change (a fan-out subscription): new records, or the shard closing. */
export interface ShardListener {
  onShardChanged(): void;
}

export function formatShardId(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`;
}

/** The shard index of `shardId-000000000007` (7); undefined for anything else. */
export function parseShardId(shardId: string): number | undefined {
  const m = /^shardId-(\d{12})$/.exec(shardId);
  return m ? Number(m[1]) : undefined;
}

export class ShardState {
  readonly shardId: string;
  readonly rangeStrings: HashKeyRangeStrings;
  /** Starting hash key as 32 hex digits (routing compares strings). */
  readonly startHex: string;
  readonly seqPrefix: string;
  readonly log = new RecordLog();
  closedAtMs: number | undefined;
  readonly children: ShardState[] = [];
  readonly listeners = new Set<ShardListener>();
  readonly writeBytes: TokenBucket;
  readonly writeRecords: TokenBucket;
  readonly readBytes: TokenBucket;
  readonly readCalls: TokenBucket;
  readonly iteratorCalls: TokenBucket;

  constructor(
    readonly index: number,
    readonly range: HashKeyRange,
    readonly createdAtMs: number,
    limits: Limits,
    monotonicNow: number,
    readonly parentShardId?: string,
    readonly adjacentParentShardId?: string,
  ) {
    this.shardId = formatShardId(index);
    this.rangeStrings = formatHashKeyRange(range);
    this.startHex = hashKeyToHex(range.startingHashKey);
    this.seqPrefix = sequenceNumberPrefix(index);
    const b = limits.burstSeconds;
    this.writeBytes = new TokenBucket(limits.shardWriteBytesPerSecond, limits.shardWriteBytesPerSecond * b, monotonicNow);
    this.writeRecords = new TokenBucket(limits.shardWriteRecordsPerSecond, limits.shardWriteRecordsPerSecond * b, monotonicNow);
    this.readBytes = new TokenBucket(limits.shardReadBytesPerSecond, limits.shardReadBytesPerSecond * b, monotonicNow);
    this.readCalls = new TokenBucket(limits.shardGetRecordsPerSecond, limits.shardGetRecordsPerSecond * b, monotonicNow);
    this.iteratorCalls = new TokenBucket(limits.shardGetShardIteratorPerSecond, limits.shardGetShardIteratorPerSecond * b, monotonicNow);
  }

  get open(): boolean {
    return this.closedAtMs === undefined;
  }

  sequenceNumber(counter: number): string {
    return formatWithPrefix(this.seqPrefix, counter);
  }

  /** ListShards' SequenceNumberRange: starts before the first record; ends at the last one once closed. */
  get startingSequenceNumber(): string {
    return this.sequenceNumber(0);
  }

  get endingSequenceNumber(): string | undefined {
    return this.open ? undefined : this.sequenceNumber(this.log.lastCounter);
  }

  applyLimits(limits: Limits, monotonicNow: number): void {
    const b = limits.burstSeconds;
    this.writeBytes.reconfigure(limits.shardWriteBytesPerSecond, limits.shardWriteBytesPerSecond * b, monotonicNow);
    this.writeRecords.reconfigure(limits.shardWriteRecordsPerSecond, limits.shardWriteRecordsPerSecond * b, monotonicNow);
    this.readBytes.reconfigure(limits.shardReadBytesPerSecond, limits.shardReadBytesPerSecond * b, monotonicNow);
    this.readCalls.reconfigure(limits.shardGetRecordsPerSecond, limits.shardGetRecordsPerSecond * b, monotonicNow);
    this.iteratorCalls.reconfigure(limits.shardGetShardIteratorPerSecond, limits.shardGetShardIteratorPerSecond * b, monotonicNow);
  }

  notify(): void {
    for (const l of this.listeners) l.onShardChanged();
  }
}

export class ConsumerState {
  status: ConsumerStatus = 'CREATING';
  readonly tags = new Map<string, string>();
  /** Wall time (ms) of the last successful SubscribeToShard per shard, for the 5-second rule. */
  readonly lastSubscribeMs = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly arn: string,
    readonly createdAtMs: number,
    readonly stream: StreamState,
  ) {}
}

export class StreamState {
  status: StreamStatus = 'CREATING';
  retentionHours = 24;
  encryptionType: 'NONE' | 'KMS' = 'NONE';
  keyId: string | undefined;
  readonly tags = new Map<string, string>();
  readonly shardLevelMetrics = new Set<string>();
  readonly consumers = new Map<string, ConsumerState>();
  /** Every shard ever created; array index = shard index. */
  readonly shards: ShardState[] = [];
  /** Open shards sorted by starting hash key: the routing table. */
  openShards: ShardState[] = [];

  constructor(
    readonly name: string,
    readonly arn: string,
    /** Distinguishes a stream from an earlier stream of the same name (stale iterators and tokens). */
    readonly generation: number,
    readonly createdAtMs: number,
    public mode: StreamMode,
  ) {}

  get retentionMs(): number {
    return this.retentionHours * 3_600_000;
  }

  /** Shards still listed by ListShards: open ones and closed ones younger than the retention period. */
  listedShards(nowMs: number): ShardState[] {
    const horizon = nowMs - this.retentionMs;
    return this.shards.filter((s) => s.open || s.closedAtMs! >= horizon);
  }

  /** The open shard whose hash key range holds `hashKeyHex` (32 hex digits, see hash-routing.ts). */
  route(hashKeyHex: string): ShardState {
    const shards = this.openShards;
    let lo = 0;
    let hi = shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (shards[mid]!.startHex <= hashKeyHex) lo = mid;
      else hi = mid - 1;
    }
    return shards[lo]!;
  }

  rebuildRoutingTable(): void {
    this.openShards = this.shards
      .filter((s) => s.open)
      .sort((a, b) => (a.range.startingHashKey < b.range.startingHashKey ? -1 : 1));
  }
}
