import type { UserRecordFailedError } from './errors.js';

/** A user record as given to `put()`. A string is sent as its UTF-8 bytes. */
export interface ProducerRecord {
  /** 1..256 characters; decides the shard unless explicitHashKey is given. */
  partitionKey: string;
  data: Uint8Array | string;
  /** Decimal integer in [0, 2^128-1]; overrides the partition key's hash for routing. */
  explicitHashKey?: string;
}

/** One try at writing a user record (the KPL's `Attempt`). Times in milliseconds. */
export interface Attempt {
  /** First attempt: from put() to the request start; later: from the previous attempt's end. */
  delay: number;
  /** From the request start to its end. */
  duration: number;
  successful: boolean;
  /** AWS error code, or the KPL's "Expired" / "Wrong Shard" / "Record Count Mismatch". */
  errorCode?: string;
  errorMessage?: string;
}

/**
 * A user record's outcome (the KPL's `UserRecordResult`, plus subSequenceNumber): what `put()`
 * resolves with when it succeeded, or what a failure error carries (`result`, `results`).
 */
export type UserRecordResult = SuccessfulUserRecordResult | FailedUserRecordResult;

/** The record was written: where. */
export interface SuccessfulUserRecordResult extends UserRecordAttempts {
  successful: true;
  shardId: string;
  sequenceNumber: string;
  /** Position inside the aggregated record that was written (0 for a record sent alone). */
  subSequenceNumber: number;
}

/** The record finally failed (see its attempts for why). */
export interface FailedUserRecordResult extends UserRecordAttempts {
  successful: false;
  shardId?: undefined;
  sequenceNumber?: undefined;
  subSequenceNumber?: undefined;
}

interface UserRecordAttempts {
  /**
   * In order. At most 33: the first attempt and the latest 32. A record retried more often (with
   * recordTtl Infinity, possibly forever) drops the ones in between, counted in attemptsOmitted.
   */
  attempts: Attempt[];
  /**
   * Attempts left out of `attempts`, between its first and second entries; only present when > 0.
   * Every attempt made: `attempts.length + (attemptsOmitted ?? 0)`.
   */
  attemptsOmitted?: number;
}

/** Typed events (`producer.on(name, fn)`); listener errors never reach the producer. */
export interface ProducerEvents {
  shardMapUpdated: { openShards: number };
  shardMapRefreshFailed: { error: Error; retryInMs: number };
  /** Records go back to be re-aggregated after `delayMs`. */
  retrying: { records: number; errorCode: string; delayMs: number; shardId?: string };
  /** A container landed on another shard than predicted with sub-records outside that shard's range. */
  wrongShard: { predictedShardId: string; actualShardId: string; records: number };
  recordFailed: { error: UserRecordFailedError };
  requestCompleted: { entries: number; userRecords: number; failedEntries: number; durationMs: number; errorCode?: string };
}
