import type { AwsErrorKind } from '@kinesis-kit/core';

/** Stable codes of the consumer package's errors (matched by applications, so never renamed). */
export const ConsumerErrorCode = {
  INVALID_CONFIG: 'INVALID_CONFIG',
  LEASE_LOST: 'LEASE_LOST',
  INVALID_CHECKPOINT: 'INVALID_CHECKPOINT',
  CHECKPOINT_THROTTLED: 'CHECKPOINT_THROTTLED',
  LEASE_TABLE_NOT_FOUND: 'LEASE_TABLE_NOT_FOUND',
  LEASE_TABLE_NOT_ACTIVE: 'LEASE_TABLE_NOT_ACTIVE',
  DYNAMODB_ERROR: 'DYNAMODB_ERROR',
  COORDINATOR_STOPPED: 'COORDINATOR_STOPPED',
  SHARD_LISTING_FAILED: 'SHARD_LISTING_FAILED',
  CONSUMER_STOPPED: 'CONSUMER_STOPPED',
  SHARD_END_NOT_CHECKPOINTED: 'SHARD_END_NOT_CHECKPOINTED',
  FANOUT_REGISTRATION_FAILED: 'FANOUT_REGISTRATION_FAILED',
  MULTI_STREAM_LEASE_TABLE: 'MULTI_STREAM_LEASE_TABLE',
  FANOUT_CONSUMER_NOT_FOUND: 'FANOUT_CONSUMER_NOT_FOUND',
} as const;
export type ConsumerErrorCode = (typeof ConsumerErrorCode)[keyof typeof ConsumerErrorCode];

export interface ConsumerErrorContext {
  leaseKey?: string;
  shardId?: string;
  sequenceNumber?: string;
  subSequenceNumber?: number;
  tableName?: string;
  field?: string;
}

/** Root of every error thrown by @kinesis-kit/consumer. */
export class KinesisConsumerError extends Error {
  override name = 'KinesisConsumerError';
  readonly leaseKey: string | undefined;
  readonly shardId: string | undefined;
  readonly sequenceNumber: string | undefined;
  readonly subSequenceNumber: number | undefined;
  readonly tableName: string | undefined;
  /** The option or argument at fault, for bad input. */
  readonly field: string | undefined;

  constructor(
    readonly code: ConsumerErrorCode,
    message: string,
    readonly retriable: boolean,
    options: ErrorOptions & ConsumerErrorContext = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.leaseKey = options.leaseKey;
    this.shardId = options.shardId;
    this.sequenceNumber = options.sequenceNumber;
    this.subSequenceNumber = options.subSequenceNumber;
    this.tableName = options.tableName;
    this.field = options.field;
  }
}

/** An option is missing or out of range. */
export class ConsumerConfigError extends KinesisConsumerError {
  override name = 'ConsumerConfigError';
  constructor(field: string, message: string) {
    super(ConsumerErrorCode.INVALID_CONFIG, `${field}: ${message}`, false, { field });
  }
}

/**
 * This worker no longer holds the lease (another worker took it, it expired locally, or it was
 * released). Expected during rebalancing: stop processing the shard, never crash on it.
 */
export class LeaseLostError extends KinesisConsumerError {
  override name = 'LeaseLostError';
  constructor(leaseKey: string, shardId: string, message?: string, options: ErrorOptions = {}) {
    super(ConsumerErrorCode.LEASE_LOST, message ?? `lease ${leaseKey} is no longer held by this worker`, false, {
      ...options,
      leaseKey,
      shardId,
    });
  }
}

export type InvalidCheckpointReason = 'backwards' | 'beyond-delivered' | 'malformed' | 'shard-end-not-reached';

/** A checkpoint that goes backwards, past the records delivered, or is not a sequence number. */
export class InvalidCheckpointError extends KinesisConsumerError {
  override name = 'InvalidCheckpointError';
  constructor(
    readonly reason: InvalidCheckpointReason,
    message: string,
    context: { leaseKey?: string; shardId?: string; sequenceNumber?: string; subSequenceNumber?: number; field?: string } = {},
  ) {
    super(ConsumerErrorCode.INVALID_CHECKPOINT, message, false, context);
  }
}

/** DynamoDB throttled the checkpoint write after retries; the lease is still held: try again. */
export class CheckpointThrottledError extends KinesisConsumerError {
  override name = 'CheckpointThrottledError';
  constructor(leaseKey: string, shardId: string, options: ErrorOptions = {}) {
    super(ConsumerErrorCode.CHECKPOINT_THROTTLED, `checkpoint of ${leaseKey} throttled by DynamoDB`, true, {
      ...options,
      leaseKey,
      shardId,
    });
  }
}

/** The lease table does not exist and may not be created (createTableIfMissing: false). */
export class LeaseTableNotFoundError extends KinesisConsumerError {
  override name = 'LeaseTableNotFoundError';
  constructor(tableName: string, options: ErrorOptions = {}) {
    super(
      ConsumerErrorCode.LEASE_TABLE_NOT_FOUND,
      `lease table ${tableName} does not exist and createTableIfMissing is false`,
      false,
      { ...options, tableName },
    );
  }
}

/**
 * The lease table holds leases of a multi-stream KCL application (keys
 * `account:stream:creationEpoch:shardId`). kinesis-kit consumes one stream per table with
 * single-stream keys (the shard id), so start() refuses the table before creating or taking any
 * lease: use a new table or application name (the multi-stream checkpoints are not carried over).
 */
export class MultiStreamLeaseTableError extends KinesisConsumerError {
  override name = 'MultiStreamLeaseTableError';
  constructor(tableName: string, leaseKey: string) {
    super(
      ConsumerErrorCode.MULTI_STREAM_LEASE_TABLE,
      `lease table ${tableName} belongs to a multi-stream KCL application (it holds lease ${leaseKey}, keyed account:stream:creationEpoch:shardId); ` +
        'kinesis-kit consumes one stream per table with single-stream lease keys (the shard id), so use a new table or application name ' +
        '(tableName / applicationName): the KCL multi-stream checkpoints are not carried over',
      false,
      { tableName, leaseKey },
    );
  }
}

/** The lease table did not become ACTIVE in time. */
export class LeaseTableNotActiveError extends KinesisConsumerError {
  override name = 'LeaseTableNotActiveError';
  constructor(tableName: string, status: string | undefined, waitedMillis: number) {
    super(
      ConsumerErrorCode.LEASE_TABLE_NOT_ACTIVE,
      `lease table ${tableName} not ACTIVE after ${Math.round(waitedMillis)} ms (status ${status ?? 'unknown'})`,
      true,
      { tableName },
    );
  }
}

/** A DynamoDB call failed for a reason other than a failed condition (after the retries allowed). */
export class DynamoDbOperationError extends KinesisConsumerError {
  override name = 'DynamoDbOperationError';
  constructor(
    readonly operation: string,
    /** The AWS error code (exception name) or socket error code. */
    readonly awsErrorCode: string,
    readonly kind: AwsErrorKind,
    retriable: boolean,
    message: string,
    options: ErrorOptions & { leaseKey?: string; tableName?: string } = {},
  ) {
    super(ConsumerErrorCode.DYNAMODB_ERROR, `${operation} failed: ${awsErrorCode}: ${message}`, retriable, options);
  }

  /** @deprecated The same as awsErrorCode, the name every package's errors use. */
  get awsCode(): string {
    return this.awsErrorCode;
  }
}

/** The lease coordinator is stopped (or was never started). */
export class CoordinatorStoppedError extends KinesisConsumerError {
  override name = 'CoordinatorStoppedError';
  constructor(message = 'the lease coordinator is stopped') {
    super(ConsumerErrorCode.COORDINATOR_STOPPED, message, false);
  }
}

/** ListShards failed after its retries (missing stream, no permission, or the service kept failing). */
export class ShardListingError extends KinesisConsumerError {
  override name = 'ShardListingError';
  constructor(
    readonly stream: string,
    /** The AWS error code (exception name). */
    readonly awsErrorCode: string,
    retriable: boolean,
    options: ErrorOptions = {},
  ) {
    super(ConsumerErrorCode.SHARD_LISTING_FAILED, `ListShards of ${stream} failed: ${awsErrorCode}`, retriable, options);
  }

  /** @deprecated The same as awsErrorCode, the name every package's errors use. */
  get awsCode(): string {
    return this.awsErrorCode;
  }
}

/** start() after stop(), or a call that needs a running consumer. */
export class ConsumerStoppedError extends KinesisConsumerError {
  override name = 'ConsumerStoppedError';
  constructor(message = 'the consumer is stopped') {
    super(ConsumerErrorCode.CONSUMER_STOPPED, message, false);
  }
}

/**
 * shardEnded returned without checkpointing SHARD_END and autoCheckpointAtShardEnd is off: the
 * children stay blocked until it does (shardEnded is called again after a backoff).
 */
export class ShardEndNotCheckpointedError extends KinesisConsumerError {
  override name = 'ShardEndNotCheckpointedError';
  constructor(leaseKey: string, shardId: string) {
    super(
      ConsumerErrorCode.SHARD_END_NOT_CHECKPOINTED,
      `shardEnded for ${shardId} returned without checkpointing SHARD_END; its child shards stay blocked until it does`,
      true,
      { leaseKey, shardId },
    );
  }
}

/** The enhanced fan-out consumer could not be found, registered or activated. */
export class FanOutRegistrationError extends KinesisConsumerError {
  override name = 'FanOutRegistrationError';
  constructor(
    readonly stream: string,
    message: string,
    retriable: boolean,
    options: ErrorOptions = {},
  ) {
    super(ConsumerErrorCode.FANOUT_REGISTRATION_FAILED, `enhanced fan-out on ${stream}: ${message}`, retriable, options);
  }
}

/** Why the stream consumer cannot be subscribed with: deregistered (gone, or DELETING), or (registered again and) not ACTIVE yet. */
export type FanOutConsumerState = 'absent' | 'DELETING' | 'CREATING';

/**
 * The enhanced fan-out consumer a fetcher subscribes with was deregistered while its stream and
 * shard are still there. Retriable: the fetcher keeps subscribing (with backoff) from where it
 * stopped, and resumes once a consumer of that name is ACTIVE again. Reported through the
 * `retrievalError` event, never thrown.
 */
export class FanOutConsumerNotFoundError extends KinesisConsumerError {
  override name = 'FanOutConsumerNotFoundError';
  constructor(
    readonly stream: string,
    readonly consumerArn: string,
    readonly consumerName: string,
    readonly consumerState: FanOutConsumerState,
    shardId: string,
  ) {
    const what =
      consumerState === 'CREATING'
        ? `stream consumer ${consumerName} is CREATING (registered again after it was deregistered?), not ACTIVE yet`
        : `stream consumer ${consumerArn} was deregistered${consumerState === 'DELETING' ? ' (DELETING)' : ''}`;
    super(
      ConsumerErrorCode.FANOUT_CONSUMER_NOT_FOUND,
      `enhanced fan-out on ${stream}: ${what}; shard ${shardId} is still there, so it is not its end: subscribing again until a consumer named ${consumerName} is ACTIVE`,
      true,
      { shardId },
    );
  }
}
