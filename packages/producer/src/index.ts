export { KinesisProducer } from './producer.js';
export { createProducerWritable, type ProducerWritableOptions } from './writable.js';
export { CONSTANTS, DEFAULTS, resolveProducerOptions, type KinesisProducerOptions, type ProducerSettings, type ResolvedProducerOptions } from './options.js';
export {
  BackPressureError,
  BatchFailedError,
  InvalidRecordError,
  KinesisProducerError,
  ProducerClosedError,
  ProducerConfigError,
  ProducerErrorCode,
  ShardMapUnavailableError,
  UserRecordFailedError,
  type BatchRecordFailure,
  type ProducerErrorContext,
} from './errors.js';
export { ProducerMetricName } from './metrics.js';
export { ShardRateLimiter, type ShardRateLimitOptions } from './rate-limiter.js';
export type { Attempt, FailedUserRecordResult, ProducerEvents, ProducerRecord, SuccessfulUserRecordResult, UserRecordResult } from './types.js';
