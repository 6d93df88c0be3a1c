import type { UserRecord } from '@kinesis-kit/aggregation';
import { backoffDelay, isAbortError, sleep, type Clock } from '@kinesis-kit/core';
import { LeaseLostError } from '../errors.js';
import type { GiveUpReason, ProcessingFailure, ResolvedFailurePolicy } from './failure-policy.js';
import type { ProcessRecordsResult } from './processor.js';

export interface ProcessingErrorInfo {
  shardId: string;
  error: Error;
  /** Failed deliveries of these records so far. */
  attempt: number;
  /** Records in the failed delivery (from the first failed one). */
  records: number;
  willRetry: boolean;
  /** Delay before the retry, when there is one. */
  retryInMillis?: number;
}

export interface RecordsSkippedInfo {
  shardId: string;
  records: number;
  reason: GiveUpReason;
  error: Error;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
}

export interface BatchDeliveryContext {
  shardId: string;
  policy: ResolvedFailurePolicy;
  clock: Clock;
  random: () => number;
  /** Aborts on lease loss or shutdown: no more deliveries or waits. */
  signal: AbortSignal;
  /** Calls processRecords with these records (the consumer sets the checkpoint limit first). */
  invoke(records: UserRecord[], attempt: number): Promise<ProcessRecordsResult | void>;
  /** Every record up to and including this one is finished: processed, or skipped by the policy. */
  onFinished(through: UserRecord): void;
  onError(info: ProcessingErrorInfo): void;
  onSkipped(info: RecordsSkippedInfo): void;
  onFailureHookFailed(error: unknown): void;
}

/** Thrown as the error of a delivery that returned batchItemFailures. */
export class PartialBatchFailureError extends Error {
  override name = 'PartialBatchFailureError';
}

interface Segment {
  records: UserRecord[];
  /** Failed deliveries of these records, splits included (drives the backoff and is reported). */
  attempts: number;
  /** Failed deliveries that were not followed by a split (counted against maxRetries). */
  retries: number;
}

/**
 * Delivers one batch under the failure policy: retries with backoff (default: until it succeeds),
 * partial success (records before the first failed item are done), optional bisecting, and
 * give-up by retries or record age through onFailure. Resolves 'done' when every record was
 * processed or deliberately skipped, 'aborted' when the lease was lost or shutdown began.
 */
export async function deliverBatch(records: UserRecord[], ctx: BatchDeliveryContext): Promise<'done' | 'aborted'> {
  const queue: Segment[] = [{ records, attempts: 0, retries: 0 }];
  while (queue.length > 0) {
    if (ctx.signal.aborted) return 'aborted';
    const segment = queue[0]!;
    let failedFrom: number | undefined;
    let error: Error | undefined;
    try {
      const result = await ctx.invoke(segment.records, segment.attempts);
      failedFrom = firstFailedIndex(segment.records, result ?? undefined);
      if (failedFrom !== undefined) error = new PartialBatchFailureError(`processRecords reported ${segment.records.length - failedFrom} failed record(s)`);
    } catch (err) {
      if (err instanceof LeaseLostError || (ctx.signal.aborted && isAbortError(err))) return 'aborted';
      error = err instanceof Error ? err : new Error(String(err));
      failedFrom = firstFailedIndex(segment.records, err as Partial<ProcessRecordsResult>) ?? 0;
    }
    if (failedFrom === undefined || error === undefined) {
      queue.shift();
      finished(segment.records, ctx);
      continue;
    }
    if (failedFrom > 0) {
      ctx.onFinished(segment.records[failedFrom - 1]!);
      segment.records = segment.records.slice(failedFrom);
    }
    segment.attempts += 1;
    const split = ctx.policy.bisectOnError && segment.records.length > 1;
    if (!split) segment.retries += 1;

    const reason = giveUpReason(segment, ctx);
    if (reason) {
      const skipped = await giveUp(segment, reason, error, ctx);
      if (skipped) {
        queue.shift();
        finished(segment.records, ctx);
        continue;
      }
    }
    const delay = backoffDelay(segment.attempts, {
      baseMs: ctx.policy.retryBaseDelayMillis,
      maxMs: ctx.policy.retryMaxDelayMillis,
      jitter: 'equal',
      random: ctx.random,
    });
    ctx.onError({ shardId: ctx.shardId, error, attempt: segment.attempts, records: segment.records.length, willRetry: true, retryInMillis: delay });
    if (split && !reason) {
      // Halves keep the failure count (for backoff) but start their own retry count.
      const half = Math.ceil(segment.records.length / 2);
      queue.splice(
        0,
        1,
        { records: segment.records.slice(0, half), attempts: segment.attempts, retries: 0 },
        { records: segment.records.slice(half), attempts: segment.attempts, retries: 0 },
      );
    }
    try {
      await sleep(delay, ctx.signal, ctx.clock);
    } catch {
      return 'aborted';
    }
  }
  return 'done';
}

function finished(records: UserRecord[], ctx: BatchDeliveryContext): void {
  const last = records[records.length - 1];
  if (last) ctx.onFinished(last);
}

function giveUpReason(segment: Segment, ctx: BatchDeliveryContext): GiveUpReason | undefined {
  const { maxRetries, maxRecordAgeMillis } = ctx.policy;
  if (Number.isFinite(maxRecordAgeMillis)) {
    const arrived = segment.records[0]?.approximateArrivalTimestamp?.getTime();
    if (arrived !== undefined && ctx.clock.now() - arrived > maxRecordAgeMillis) return 'max-record-age';
  }
  // With bisecting, a segment is split down to one record before its retries count.
  return segment.retries > maxRetries ? 'max-retries' : undefined;
}

/** Hands the records to onFailure and reports them skipped; false if the hook failed (retry instead). */
async function giveUp(segment: Segment, reason: GiveUpReason, error: Error, ctx: BatchDeliveryContext): Promise<boolean> {
  const failure: ProcessingFailure = { shardId: ctx.shardId, records: segment.records, error, attempts: segment.attempts, reason };
  try {
    await ctx.policy.onFailure?.(failure);
  } catch (err) {
    ctx.onFailureHookFailed(err);
    return false;
  }
  ctx.onError({ shardId: ctx.shardId, error, attempt: segment.attempts, records: segment.records.length, willRetry: false });
  ctx.onSkipped({
    shardId: ctx.shardId,
    records: segment.records.length,
    reason,
    error,
    firstSequenceNumber: segment.records[0]!.sequenceNumber,
    lastSequenceNumber: segment.records[segment.records.length - 1]!.sequenceNumber,
  });
  return true;
}

/**
 * Index of the earliest record named in batchItemFailures (in any order), or undefined when none
 * is named. A failure naming no delivered record counts as index 0: never skip on a bad answer.
 */
export function firstFailedIndex(records: UserRecord[], result: Partial<ProcessRecordsResult> | undefined): number | undefined {
  const failures = result?.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return undefined;
  let first: number | undefined;
  for (const failure of failures) {
    const index = records.findIndex(
      (r) => r.sequenceNumber === failure.sequenceNumber && (failure.subSequenceNumber === undefined || r.subSequenceNumber === failure.subSequenceNumber),
    );
    // An unknown position is treated as "everything failed" (never skip on a bad answer).
    const at = index < 0 ? 0 : index;
    if (first === undefined || at < first) first = at;
  }
  return first;
}
