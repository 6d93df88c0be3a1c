export {
  AggregationConfigError,
  AggregationError,
  AggregationErrorCode,
  InvalidDataError,
  InvalidExplicitHashKeyError,
  InvalidHashKeyRangeError,
  InvalidPartitionKeyError,
  InvalidSequenceNumberError,
} from './errors.js';
export {
  canonicalExplicitHashKey,
  effectiveHashKey,
  formatHashKeyRange,
  FULL_HASH_KEY_RANGE,
  hashKeyInRange,
  MAX_HASH_KEY,
  MAX_PARTITION_KEY_LENGTH,
  parseExplicitHashKey,
  parseHashKeyRange,
  partitionKeyToHashKey,
  rangesCoverHashSpace,
  splitHashKeyRange,
  toHashKeyRange,
  validatePartitionKey,
  type HashKeyRange,
  type HashKeyRangeStrings,
} from './hash-key.js';
export {
  compareExtendedSequenceNumbers,
  compareSequenceNumbers,
  isSentinel,
  isSequenceNumber,
  SentinelCheckpoint,
  validateExtendedSequenceNumber,
  type ExtendedSequenceNumber,
} from './sequence-number.js';
export { AGGREGATED_RECORD_MAGIC, AGGREGATION_FIXED_OVERHEAD, hasAggregatedRecordMagic } from './format.js';
export { validateUserRecordInput, type UserRecordInput } from './user-record-input.js';
export { encodeAggregatedRecord } from './encode.js';
export { utf8ByteLength } from './utf8.js';
export {
  AGGREGATED_PARTITION_KEY,
  RECORD_AGGREGATOR_DEFAULTS,
  RECORD_AGGREGATOR_LIMITS,
  RecordAggregator,
  resolveRecordAggregatorOptions,
  type AggregatedRecord,
  type AggregatorUserRecord,
  type RecordAggregatorOptions,
  type ResolvedRecordAggregatorOptions,
} from './record-aggregator.js';
export {
  deaggregate,
  deaggregateWithReport,
  type DeaggregateOptions,
  type DeaggregationReport,
  type UserRecord,
} from './deaggregate.js';
export {
  normalizeKinesisRecord,
  type KinesisRecordInput,
  type LambdaKinesisEventRecord,
  type LambdaKinesisRecord,
  type NormalizedKinesisRecord,
  type SdkKinesisRecord,
} from './kinesis-record-input.js';
