import type { FailedUserRecordResult, ProducerRecord, UserRecordResult } from './types.js';

/** Stable codes of the producer package's errors (applications match on them, so never renamed). */
export const ProducerErrorCode = {
  INVALID_CONFIG: 'INVALID_CONFIG',
  INVALID_RECORD: 'INVALID_RECORD',
  INVALID_PARTITION_KEY: 'INVALID_PARTITION_KEY',
  INVALID_EXPLICIT_HASH_KEY: 'INVALID_EXPLICIT_HASH_KEY',
  INVALID_DATA: 'INVALID_DATA',
  RECORD_TOO_LARGE: 'RECORD_TOO_LARGE',
  RECORD_FAILED: 'RECORD_FAILED',
  RECORD_EXPIRED: 'RECORD_EXPIRED',
  BATCH_FAILED: 'BATCH_FAILED',
  PRODUCER_CLOSED: 'PRODUCER_CLOSED',
  BACK_PRESSURE: 'BACK_PRESSURE',
  SHARD_MAP_UNAVAILABLE: 'SHARD_MAP_UNAVAILABLE',
} as const;
export type ProducerErrorCode = (typeof ProducerErrorCode)[keyof typeof ProducerErrorCode];

export interface ProducerErrorContext {
  streamName?: string;
  shardId?: string;
  /** The option or record field at fault, for bad input. */
  field?: string;
  /** The AWS error code (or KPL pseudo-code such as "Expired") behind a failure. */
  awsErrorCode?: string;
}

/** Root of every error thrown by @kinesis-kit/producer. */
export class KinesisProducerError extends Error {
  override name = 'KinesisProducerError';
  readonly streamName: string | undefined;
  readonly shardId: string | undefined;
  readonly field: string | undefined;
  readonly awsErrorCode: string | undefined;

  constructor(
    readonly code: ProducerErrorCode,
    message: string,
    readonly retriable: boolean,
    options: ErrorOptions & ProducerErrorContext = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.streamName = options.streamName;
    this.shardId = options.shardId;
    this.field = options.field;
    this.awsErrorCode = options.awsErrorCode;
  }
}

/** An option is missing or out of range; `field` names it. */
export class ProducerConfigError extends KinesisProducerError {
  override name = 'ProducerConfigError';
  constructor(field: string, message: string) {
    super(ProducerErrorCode.INVALID_CONFIG, `${field}: ${message}`, false, { field });
  }
}

/** A record given to put() is invalid (key, hash key, data type or size); `field` names the culprit. */
export class InvalidRecordError extends KinesisProducerError {
  override name = 'InvalidRecordError';
  constructor(code: ProducerErrorCode, field: string, message: string, options: ErrorOptions = {}) {
    super(code, message, false, { ...options, field });
  }
}

/**
 * A user record that finally failed: a non-retriable error, throttling with failIfThrottled, or
 * recordTtl reached. Carries the result (its attempts, see UserRecordResult) and the record as it was given.
 */
export class UserRecordFailedError extends KinesisProducerError {
  override name = 'UserRecordFailedError';
  constructor(
    readonly result: FailedUserRecordResult,
    readonly record: ProducerRecord,
    options: ErrorOptions & ProducerErrorContext & { expired?: boolean } = {},
  ) {
    const last = result.attempts[result.attempts.length - 1];
    const reason = last ? `${last.errorCode ?? 'Error'}: ${last.errorMessage ?? ''}` : 'no attempt was made';
    super(
      options.expired ? ProducerErrorCode.RECORD_EXPIRED : ProducerErrorCode.RECORD_FAILED,
      `user record failed after ${result.attempts.length + (result.attemptsOmitted ?? 0)} attempt(s); last error ${reason}`,
      false,
      { ...options, awsErrorCode: options.awsErrorCode ?? last?.errorCode },
    );
  }
}

/** One record of a putMany() batch that did not make it: its position, the record as given and why. */
export interface BatchRecordFailure {
  index: number;
  record: ProducerRecord;
  error: UserRecordFailedError | ProducerClosedError;
}

/**
 * Some records of a putMany() batch finally failed (the others were written). `results` has every
 * record's result in input order (failed ones with `successful: false`); `failures` lists the failed
 * ones. Rejecting, rather than resolving with a flag to check, means no record is lost unnoticed.
 */
export class BatchFailedError extends KinesisProducerError {
  override name = 'BatchFailedError';
  constructor(
    readonly results: UserRecordResult[],
    readonly failures: BatchRecordFailure[],
    options: ProducerErrorContext = {},
  ) {
    const first = failures[0];
    super(
      ProducerErrorCode.BATCH_FAILED,
      `${failures.length} of ${results.length} records of the batch failed` + (first ? `; the first, at index ${first.index}: ${first.error.message}` : ''),
      false,
      options,
    );
  }
}

/** put() was called after close(), or close() gave up on outstanding records (aborted). */
export class ProducerClosedError extends KinesisProducerError {
  override name = 'ProducerClosedError';
  constructor(message = 'the producer is closed', options: ProducerErrorContext = {}) {
    super(ProducerErrorCode.PRODUCER_CLOSED, message, false, options);
  }
}

/** put() found the outstanding limit reached and backPressure is 'reject'. Retry later. */
export class BackPressureError extends KinesisProducerError {
  override name = 'BackPressureError';
  constructor(message: string, options: ProducerErrorContext = {}) {
    super(ProducerErrorCode.BACK_PRESSURE, message, true, options);
  }
}

/**
 * ready() gave up: ListShards failed with an error retrying will not fix (no such stream, access
 * denied, bad credentials). The producer itself keeps retrying in the background (a stream created
 * later is picked up); `cause` is the ListShards error, `awsErrorCode` its code.
 */
export class ShardMapUnavailableError extends KinesisProducerError {
  override name = 'ShardMapUnavailableError';
  constructor(message: string, options: ErrorOptions & ProducerErrorContext = {}) {
    super(ProducerErrorCode.SHARD_MAP_UNAVAILABLE, message, false, options);
  }
}
