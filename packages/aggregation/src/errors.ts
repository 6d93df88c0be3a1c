/** Stable codes of the aggregation package's errors. */
export const AggregationErrorCode = {
  INVALID_PARTITION_KEY: 'INVALID_PARTITION_KEY',
  INVALID_EXPLICIT_HASH_KEY: 'INVALID_EXPLICIT_HASH_KEY',
  INVALID_DATA: 'INVALID_DATA',
  INVALID_SEQUENCE_NUMBER: 'INVALID_SEQUENCE_NUMBER',
  INVALID_HASH_KEY_RANGE: 'INVALID_HASH_KEY_RANGE',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  INVALID_CONFIG: 'INVALID_CONFIG',
} as const;
export type AggregationErrorCode = (typeof AggregationErrorCode)[keyof typeof AggregationErrorCode];

/** Root of every error thrown by @kinesis-kit/aggregation. Bad input is never retriable. */
export class AggregationError extends Error {
  override name = 'AggregationError';
  readonly retriable = false;
  constructor(
    readonly code: AggregationErrorCode,
    message: string,
    options?: ErrorOptions & { field?: string },
  ) {
    super(message, options);
    this.field = options?.field;
  }
  /** The input field at fault (partitionKey, explicitHashKey, data, ...). */
  readonly field: string | undefined;
}

export class InvalidPartitionKeyError extends AggregationError {
  override name = 'InvalidPartitionKeyError';
  constructor(message: string, options?: ErrorOptions) {
    super(AggregationErrorCode.INVALID_PARTITION_KEY, message, { ...options, field: 'partitionKey' });
  }
}

export class InvalidExplicitHashKeyError extends AggregationError {
  override name = 'InvalidExplicitHashKeyError';
  constructor(message: string, options?: ErrorOptions) {
    super(AggregationErrorCode.INVALID_EXPLICIT_HASH_KEY, message, { ...options, field: 'explicitHashKey' });
  }
}

export class InvalidDataError extends AggregationError {
  override name = 'InvalidDataError';
  constructor(message: string, options?: ErrorOptions) {
    super(AggregationErrorCode.INVALID_DATA, message, { ...options, field: 'data' });
  }
}

export class InvalidSequenceNumberError extends AggregationError {
  override name = 'InvalidSequenceNumberError';
  constructor(message: string, options?: ErrorOptions) {
    super(AggregationErrorCode.INVALID_SEQUENCE_NUMBER, message, { ...options, field: 'sequenceNumber' });
  }
}

/** An out-of-range option, e.g. RecordAggregator's maxSize; `field` names the option. */
export class AggregationConfigError extends AggregationError {
  override name = 'AggregationConfigError';
  constructor(message: string, options: ErrorOptions & { field: string }) {
    super(AggregationErrorCode.INVALID_CONFIG, message, options);
  }
}

/** A hash key range that is not two decimal integers in [0, 2^128-1] with start <= end. */
export class InvalidHashKeyRangeError extends AggregationError {
  override name = 'InvalidHashKeyRangeError';
  constructor(message: string, options?: ErrorOptions & { field?: string }) {
    super(AggregationErrorCode.INVALID_HASH_KEY_RANGE, message, { ...options, field: options?.field ?? 'hashKeyRange' });
  }
}
