export {
  AggregationError,
  AggregationErrorCode,
  InvalidDataError,
  InvalidExplicitHashKeyError,
  InvalidPartitionKeyError,
  InvalidSequenceNumberError,
} from './errors.js';
export {
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
