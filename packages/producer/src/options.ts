import type { KinesisClient, KinesisClientConfig } from '@aws-sdk/client-kinesis';
import {
  isKinesisName,
  isStreamArn,
  noopMetricsSink,
  silentLogger,
  systemClock,
  streamNameOfArn,
  type Clock,
  type Logger,
  type MetricsSink,
  type StreamSelector,
} from '@kinesis-kit/core';
import { AGGREGATED_PARTITION_KEY } from '@kinesis-kit/aggregation';
import { ProducerConfigError } from './errors.js';

/**
 * Options of `new KinesisProducer(...)`: the stream (exactly one of streamName / streamArn) and the
 * settings. KPL options keep their KPL names (camelCase) and defaults.
 */
export type KinesisProducerOptions = StreamSelector & ProducerSettings;

/** Everything in KinesisProducerOptions but the stream. */
export interface ProducerSettings {
  /**
   * A ready client. Turn its SDK retries off (`maxAttempts: 1`), or the SDK's backoff multiplies
   * the producer's. It is not destroyed by close(). Without it a client is built from region,
   * endpoint and credentials (HTTP/1.1 keep-alive, maxAttempts 1) and destroyed by close().
   */
  kinesisClient?: KinesisClient;
  region?: string;
  endpoint?: string;
  /** Passed to the SDK as-is; the producer never reads credentials itself. */
  credentials?: KinesisClientConfig['credentials'];

  /** KPL AggregationEnabled. */
  aggregationEnabled?: boolean;
  /** KPL AggregationMaxCount: user records per aggregated record. */
  aggregationMaxCount?: number;
  /**
   * KPL AggregationMaxSize: bytes per aggregated record, 20-byte overhead included. Capped so a
   * container and its partition key "a" fit one backend record (see containerMaxSize).
   */
  aggregationMaxSize?: number;
  /** KPL CollectionMaxCount: Kinesis records per PutRecords. */
  collectionMaxCount?: number;
  /** KPL CollectionMaxSize: partition keys + data per PutRecords. */
  collectionMaxSize?: number;
  /** KPL RecordMaxBufferedTime (ms): how long a record may wait to be batched. */
  recordMaxBufferedTime?: number;
  /** KPL RecordTtl (ms): the delivery deadline; Infinity allowed. */
  recordTtl?: number;
  /** KPL MaxConnections: PutRecords requests in flight. */
  maxConnections?: number;
  /** KPL RequestTimeout (ms). A timed-out request is retried, so duplicates are possible. */
  requestTimeout?: number;
  /** KPL ConnectTimeout (ms), for clients the producer builds. */
  connectTimeout?: number;
  /** KPL RateLimit: percent of a shard's write limit each per-shard token bucket allows. */
  rateLimit?: number;
  /** KPL FailIfThrottled: fail records at once on ProvisionedThroughputExceededException. */
  failIfThrottled?: boolean;
  /** KPL MaxUserRecordSize: partition key (UTF-8) + data, as the backend counts it. */
  maxUserRecordSize?: number;

  /** Most records accepted and not yet settled; put() waits (or rejects) beyond it. */
  maxOutstandingRecords?: number;
  /** Most bytes (partition key + data) accepted and not yet settled. */
  maxOutstandingBytes?: number;
  /** What put() does when an outstanding limit is reached: wait for room, or reject with BackPressureError. */
  backPressure?: 'wait' | 'reject';
  /** One request in flight per shard and failed records resent before later ones: put() order per shard. */
  strictOrdering?: boolean;
  /** First retry delay (ms); grows x2 per attempt with jitter. */
  retryBaseDelay?: number;
  /** Largest retry delay (ms). */
  retryMaxDelay?: number;

  /** KPL MetricsLevel. */
  metricsLevel?: 'none' | 'summary' | 'detailed';
  /** KPL MetricsGranularity: the finest dimension metrics carry. */
  metricsGranularity?: 'global' | 'stream' | 'shard';
  /** Where metric datums go, with the KPL's names (the consumer's option has the same name). */
  metrics?: MetricsSink;
  logger?: Logger;
  clock?: Clock;
}

const MiB = 1024 * 1024;

/** Defaults: KPL names and values (kpl.md section 2), plus the producer's own bounds. */
export const DEFAULTS = {
  aggregationEnabled: true,
  aggregationMaxCount: 4294967295,
  aggregationMaxSize: 51200,
  collectionMaxCount: 500,
  collectionMaxSize: 5 * MiB,
  recordMaxBufferedTime: 100,
  recordTtl: 30_000,
  maxConnections: 24,
  requestTimeout: 6000,
  connectTimeout: 6000,
  rateLimit: 150,
  failIfThrottled: false,
  maxUserRecordSize: MiB,
  maxOutstandingRecords: 100_000,
  maxOutstandingBytes: 128 * MiB,
  backPressure: 'wait',
  strictOrdering: false,
  retryBaseDelay: 100,
  retryMaxDelay: 5000,
  metricsLevel: 'detailed',
  metricsGranularity: 'shard',
} as const;

/** KPL-hard-coded constants (kpl.md section 2), not options. */
export const CONSTANTS = {
  /** Shard-map refresh backoff: 1 s, x1.5, up to 30 s. */
  shardMapRetryBaseMs: 1000,
  shardMapRetryMultiplier: 1.5,
  shardMapRetryMaxMs: 30_000,
  listShardsMaxResults: 1000,
  /** Limiter drain period. */
  limiterDrainMs: 25,
  /** Per-shard write limits of Kinesis. */
  shardRecordsPerSecond: 1000,
  shardBytesPerSecond: MiB,
  /** Extra PutRecords buffering: min(50 ms, 0.2 x recordMaxBufferedTime). */
  collectorLingerMaxMs: 50,
  collectorLingerShare: 0.2,
  /** Backend limits. */
  putRecordsMaxCount: 500,
  putRecordsMaxBytes: 5 * MiB,
  /** Per record, partition key + data, unless the stream's MaxRecordSizeInKiB was raised. */
  recordMaxBytes: MiB,
} as const;

/**
 * The most bytes an aggregated container may hold: aggregationMaxSize, capped so that with its
 * partition key "a" it fits one backend record, 1 MiB (or maxUserRecordSize when that is larger:
 * the stream's MaxRecordSizeInKiB was raised). A larger container would fail its whole PutRecords
 * with a ValidationException, records of other shards included. The KPL does not cap it (kpl.md §1.3).
 */
export function containerMaxSize(o: Pick<ResolvedProducerOptions, 'aggregationMaxSize' | 'maxUserRecordSize'>): number {
  const recordLimit = Math.max(CONSTANTS.recordMaxBytes, o.maxUserRecordSize);
  return Math.min(o.aggregationMaxSize, recordLimit - AGGREGATED_PARTITION_KEY.length);
}

export interface ResolvedProducerOptions {
  streamName: string | undefined;
  streamArn: string | undefined;
  /** For logs, metrics and errors: the name, or the ARN's last part. */
  streamLabel: string;
  kinesisClient: KinesisClient | undefined;
  region: string | undefined;
  endpoint: string | undefined;
  credentials: KinesisProducerOptions['credentials'] | undefined;
  aggregationEnabled: boolean;
  aggregationMaxCount: number;
  aggregationMaxSize: number;
  collectionMaxCount: number;
  collectionMaxSize: number;
  recordMaxBufferedTime: number;
  recordTtl: number;
  maxConnections: number;
  requestTimeout: number;
  connectTimeout: number;
  rateLimit: number;
  failIfThrottled: boolean;
  maxUserRecordSize: number;
  maxOutstandingRecords: number;
  maxOutstandingBytes: number;
  backPressure: 'wait' | 'reject';
  strictOrdering: boolean;
  retryBaseDelay: number;
  retryMaxDelay: number;
  metricsLevel: 'none' | 'summary' | 'detailed';
  metricsGranularity: 'global' | 'stream' | 'shard';
  metrics: MetricsSink;
  logger: Logger;
  clock: Clock;
}

type NumericOption = {
  [K in keyof ResolvedProducerOptions]: ResolvedProducerOptions[K] extends number ? K : never;
}[keyof ResolvedProducerOptions];

/** Ranges (inclusive). Infinity is accepted where the maximum is Infinity (recordTtl, recordMaxBufferedTime, ...). */
const RANGES: Record<NumericOption, { min: number; max: number; integer?: boolean }> = {
  // The KPL's range (uint32), the same as RecordAggregator's: a larger value would fail at the first put().
  aggregationMaxCount: { min: 1, max: 4294967295, integer: true },
  aggregationMaxSize: { min: 64, max: 10 * MiB, integer: true },
  collectionMaxCount: { min: 1, max: CONSTANTS.putRecordsMaxCount, integer: true },
  collectionMaxSize: { min: 52224, max: CONSTANTS.putRecordsMaxBytes, integer: true },
  recordMaxBufferedTime: { min: 0, max: Infinity },
  recordTtl: { min: 100, max: Infinity },
  maxConnections: { min: 1, max: 256, integer: true },
  requestTimeout: { min: 100, max: 600_000 },
  connectTimeout: { min: 100, max: 300_000 },
  rateLimit: { min: 1, max: Number.MAX_SAFE_INTEGER },
  maxUserRecordSize: { min: 64, max: 10 * MiB, integer: true },
  maxOutstandingRecords: { min: 1, max: Infinity },
  maxOutstandingBytes: { min: 1024, max: Infinity },
  retryBaseDelay: { min: 0, max: 600_000 },
  retryMaxDelay: { min: 0, max: Infinity },
};

const ENUMS = {
  backPressure: ['wait', 'reject'],
  metricsLevel: ['none', 'summary', 'detailed'],
  metricsGranularity: ['global', 'stream', 'shard'],
} as const;

/** Fills in defaults and validates every option once; throws ProducerConfigError naming the option. */
export function resolveProducerOptions(options: KinesisProducerOptions): ResolvedProducerOptions {
  if (typeof options !== 'object' || options === null) throw new ProducerConfigError('options', 'must be an object');
  const { streamName, streamArn } = options;
  if ('metricsSink' in options) throw new ProducerConfigError('metricsSink', 'is now called metrics (the same name as in the consumer)');
  if (streamName === undefined && streamArn === undefined) throw new ProducerConfigError('streamName', 'streamName or streamArn is required');
  if (streamName !== undefined && streamArn !== undefined) throw new ProducerConfigError('streamArn', 'give streamName or streamArn, not both');
  if (streamName !== undefined && !isKinesisName(streamName)) {
    throw new ProducerConfigError('streamName', 'must be 1..128 characters of [a-zA-Z0-9_.-]');
  }
  if (streamArn !== undefined && !isStreamArn(streamArn)) {
    throw new ProducerConfigError('streamArn', 'must be a Kinesis stream ARN (arn:aws:kinesis:region:12-digit account:stream/name)');
  }
  const pick = <K extends keyof typeof DEFAULTS>(key: K) => (options[key] ?? DEFAULTS[key]) as (typeof DEFAULTS)[K];
  const resolved: ResolvedProducerOptions = {
    streamName,
    streamArn,
    streamLabel: streamName ?? streamNameOfArn(streamArn),
    kinesisClient: options.kinesisClient,
    region: options.region,
    endpoint: options.endpoint,
    credentials: options.credentials,
    aggregationEnabled: pick('aggregationEnabled'),
    aggregationMaxCount: pick('aggregationMaxCount'),
    aggregationMaxSize: pick('aggregationMaxSize'),
    collectionMaxCount: pick('collectionMaxCount'),
    collectionMaxSize: pick('collectionMaxSize'),
    recordMaxBufferedTime: pick('recordMaxBufferedTime'),
    recordTtl: pick('recordTtl'),
    maxConnections: pick('maxConnections'),
    requestTimeout: pick('requestTimeout'),
    connectTimeout: pick('connectTimeout'),
    rateLimit: pick('rateLimit'),
    failIfThrottled: pick('failIfThrottled'),
    maxUserRecordSize: pick('maxUserRecordSize'),
    maxOutstandingRecords: pick('maxOutstandingRecords'),
    maxOutstandingBytes: pick('maxOutstandingBytes'),
    backPressure: pick('backPressure'),
    strictOrdering: pick('strictOrdering'),
    retryBaseDelay: pick('retryBaseDelay'),
    retryMaxDelay: pick('retryMaxDelay'),
    metricsLevel: pick('metricsLevel'),
    metricsGranularity: pick('metricsGranularity'),
    metrics: options.metrics ?? noopMetricsSink,
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? systemClock,
  };
  for (const [field, range] of Object.entries(RANGES) as [NumericOption, (typeof RANGES)[NumericOption]][]) {
    const value: unknown = resolved[field];
    if (typeof value !== 'number' || Number.isNaN(value) || value < range.min || value > range.max || (range.integer && !Number.isInteger(value))) {
      throw new ProducerConfigError(field, `must be ${range.integer ? 'an integer' : 'a number'} in [${range.min}, ${range.max}], got ${String(value)}`);
    }
  }
  for (const field of ['aggregationEnabled', 'failIfThrottled', 'strictOrdering'] as const) {
    if (typeof resolved[field] !== 'boolean') throw new ProducerConfigError(field, `must be a boolean, got ${String(resolved[field])}`);
  }
  for (const [field, allowed] of Object.entries(ENUMS) as [keyof typeof ENUMS, readonly string[]][]) {
    if (!allowed.includes(resolved[field])) throw new ProducerConfigError(field, `must be one of ${allowed.join(', ')}, got ${String(resolved[field])}`);
  }
  if (resolved.retryMaxDelay < resolved.retryBaseDelay) throw new ProducerConfigError('retryMaxDelay', 'must not be below retryBaseDelay');
  if (resolved.kinesisClient === undefined && resolved.region === undefined && resolved.endpoint === undefined && !process.env.AWS_REGION) {
    // The SDK would fail later with a less helpful message.
    throw new ProducerConfigError('region', 'region (or endpoint, or kinesisClient, or AWS_REGION) is required');
  }
  for (const field of ['metrics', 'logger', 'clock'] as const) {
    if (typeof resolved[field] !== 'object' || resolved[field] === null) throw new ProducerConfigError(field, 'must be an object');
  }
  return resolved;
}
