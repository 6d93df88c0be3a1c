import { MockConfigError } from './errors.js';

const MiB = 1024 * 1024;

/**
 * Kinesis service limits the engine enforces (kpl.md §6.2). Every one can be changed.
 * `limits: false` lifts the rate limits and account quotas but keeps the per-call caps (PER_CALL_CAPS):
 * those shape every request and response on AWS (a consumer never gets more than 10 MiB from one
 * GetRecords), so code tested without rate limits still sees what AWS sends. Partition keys of
 * 1..256 characters and the GetRecords `Limit` range are API shape constraints, not limits, and are
 * always checked.
 */
export interface Limits {
  /** Per shard write throughput (bytes of partition key + data per second). */
  shardWriteBytesPerSecond: number;
  /** Per shard write rate in records per second. */
  shardWriteRecordsPerSecond: number;
  /** Per shard read throughput shared by GetRecords callers. */
  shardReadBytesPerSecond: number;
  /** Per shard GetRecords calls per second. */
  shardGetRecordsPerSecond: number;
  /** Per shard GetShardIterator calls per second. */
  shardGetShardIteratorPerSecond: number;
  /** Per consumer per shard push rate over SubscribeToShard. */
  subscriptionBytesPerSecond: number;
  /** Token buckets hold this many seconds' worth of tokens (the burst). */
  burstSeconds: number;
  /** GetRecords returns at most this many records per call. */
  getRecordsMaxRecords: number;
  /** GetRecords returns at most this many bytes per call. */
  getRecordsMaxBytes: number;
  /** A record's partition key (UTF-8) + data may not exceed this. */
  maxRecordSizeBytes: number;
  /** Entries per PutRecords call. */
  putRecordsMaxRecords: number;
  /** Partition keys + data per PutRecords call. */
  putRecordsMaxBytes: number;
  /** Registered enhanced fan-out consumers per stream. */
  consumersPerStream: number;
  /** Consumers of one stream in CREATING status at the same time (RegisterStreamConsumer's "only 5 consumers can be created simultaneously"). */
  consumersCreatingPerStream: number;
  /** Open shards per account (all streams). */
  shardLimit: number;
  /** ON_DEMAND streams per account. */
  onDemandStreamCountLimit: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  shardWriteBytesPerSecond: MiB,
  shardWriteRecordsPerSecond: 1000,
  shardReadBytesPerSecond: 2 * MiB,
  shardGetRecordsPerSecond: 5,
  shardGetShardIteratorPerSecond: 5,
  subscriptionBytesPerSecond: 2 * MiB,
  burstSeconds: 1,
  getRecordsMaxRecords: 10_000,
  getRecordsMaxBytes: 10 * MiB,
  maxRecordSizeBytes: MiB,
  putRecordsMaxRecords: 500,
  putRecordsMaxBytes: 5 * MiB,
  consumersPerStream: 20,
  consumersCreatingPerStream: 5,
  shardLimit: 500,
  onDemandStreamCountLimit: 50,
});

/** The limits that bound one call rather than a rate or a quota; `limits: false` keeps them. */
export const PER_CALL_CAPS = ['getRecordsMaxRecords', 'getRecordsMaxBytes', 'maxRecordSizeBytes', 'putRecordsMaxRecords', 'putRecordsMaxBytes'] as const;

/** What `limits: false` means: no rate limits or quotas, AWS's per-call caps (set those to Infinity to lift them too). */
export const NO_LIMITS: Readonly<Limits> = Object.freeze(
  Object.fromEntries(
    Object.entries(DEFAULT_LIMITS).map(([k, v]) => [k, k === 'burstSeconds' || (PER_CALL_CAPS as readonly string[]).includes(k) ? v : Infinity]),
  ) as unknown as Limits,
);

/** Merges `limits` over the defaults (`false` = NO_LIMITS) and checks every value is a positive number. */
export function resolveLimits(limits: false | Partial<Limits> | undefined, base: Readonly<Limits> = DEFAULT_LIMITS): Limits {
  if (limits === false) return { ...NO_LIMITS };
  const out: Limits = { ...base };
  for (const [key, value] of Object.entries(limits ?? {})) {
    if (!(key in DEFAULT_LIMITS)) throw new MockConfigError(`limits.${key}`, 'unknown limit');
    if (value === undefined) continue;
    if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
      throw new MockConfigError(`limits.${key}`, `must be a positive number (or Infinity), got ${String(value)}`);
    }
    out[key as keyof Limits] = value;
  }
  return out;
}
