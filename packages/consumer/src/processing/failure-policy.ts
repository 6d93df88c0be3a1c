import type { UserRecord } from '@kinesis-kit/aggregation';
import { ConsumerConfigError } from '../errors.js';

/** Why records were given up on. */
export type GiveUpReason = 'max-retries' | 'max-record-age';

/** Handed to `onFailure` before records are skipped (e.g. to write them to a dead-letter queue). */
export interface ProcessingFailure {
  shardId: string;
  records: UserRecord[];
  error: Error;
  /** Deliveries of these records that failed. */
  attempts: number;
  reason: GiveUpReason;
}

/**
 * What happens when processRecords throws (or reports failed items). The default retries the
 * same records with backoff until they succeed: a shard never skips records silently (the KCL
 * logs the error and moves on).
 */
export interface FailurePolicyOptions {
  /** Retries of the same records before they are handed to onFailure and skipped. Default Infinity. */
  maxRetries?: number;
  /** First retry delay (KCL taskBackoffTimeMillis). Default 500. */
  retryBaseDelayMillis?: number;
  /** Largest retry delay. Default 30000. */
  retryMaxDelayMillis?: number;
  /** Records that arrived longer ago than this are handed to onFailure and skipped instead of retried. Default Infinity. */
  maxRecordAgeMillis?: number;
  /** Split a failing batch in two and retry the halves, to isolate a bad record (Lambda BisectBatchOnFunctionError). Default false. */
  bisectOnError?: boolean;
  /** Called before records are skipped; if it throws, they are not skipped but retried later. */
  onFailure?: (failure: ProcessingFailure) => void | Promise<void>;
}

export interface ResolvedFailurePolicy {
  maxRetries: number;
  retryBaseDelayMillis: number;
  retryMaxDelayMillis: number;
  maxRecordAgeMillis: number;
  bisectOnError: boolean;
  onFailure: ((failure: ProcessingFailure) => void | Promise<void>) | undefined;
}

export const FAILURE_POLICY_DEFAULTS = {
  maxRetries: Number.POSITIVE_INFINITY,
  retryBaseDelayMillis: 500,
  retryMaxDelayMillis: 30_000,
  maxRecordAgeMillis: Number.POSITIVE_INFINITY,
  bisectOnError: false,
} as const;

export function resolveFailurePolicy(options: FailurePolicyOptions = {}): ResolvedFailurePolicy {
  const d = FAILURE_POLICY_DEFAULTS;
  const resolved: ResolvedFailurePolicy = {
    maxRetries: count('failurePolicy.maxRetries', options.maxRetries ?? d.maxRetries, 0),
    retryBaseDelayMillis: count('failurePolicy.retryBaseDelayMillis', options.retryBaseDelayMillis ?? d.retryBaseDelayMillis, 0),
    retryMaxDelayMillis: count('failurePolicy.retryMaxDelayMillis', options.retryMaxDelayMillis ?? d.retryMaxDelayMillis, 0),
    maxRecordAgeMillis: count('failurePolicy.maxRecordAgeMillis', options.maxRecordAgeMillis ?? d.maxRecordAgeMillis, 1),
    bisectOnError: options.bisectOnError ?? d.bisectOnError,
    onFailure: options.onFailure,
  };
  if (typeof resolved.bisectOnError !== 'boolean') throw new ConsumerConfigError('failurePolicy.bisectOnError', 'must be a boolean');
  if (resolved.onFailure !== undefined && typeof resolved.onFailure !== 'function') {
    throw new ConsumerConfigError('failurePolicy.onFailure', 'must be a function');
  }
  if (resolved.retryMaxDelayMillis < resolved.retryBaseDelayMillis) {
    throw new ConsumerConfigError('failurePolicy.retryMaxDelayMillis', 'must be >= retryBaseDelayMillis');
  }
  return resolved;
}

/** A non-negative integer or Infinity. */
function count(field: string, value: unknown, min: number): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConsumerConfigError(field, `must be an integer >= ${min} or Infinity, got ${String(value)}`);
  }
  return value;
}
