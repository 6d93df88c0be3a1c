import { BatchFailedError, type BatchRecordFailure, type ProducerClosedError, type UserRecordFailedError } from './errors.js';
import type { FailedUserRecordResult, ProducerRecord, SuccessfulUserRecordResult, UserRecordResult } from './types.js';

/**
 * The one promise of a putMany() call: collects each record's result by its position and settles
 * once every record has (resolved with the results in input order, or rejected with
 * BatchFailedError when any record failed). Records reach it through PendingRecord.batch.
 */
export class BatchSettlement {
  private readonly results: UserRecordResult[];
  private failures: BatchRecordFailure[] | undefined;
  private remaining: number;

  constructor(
    size: number,
    private readonly resolve: (results: SuccessfulUserRecordResult[]) => void,
    private readonly reject: (error: BatchFailedError) => void,
    private readonly streamName: string,
  ) {
    this.results = new Array<UserRecordResult>(size);
    this.remaining = size;
  }

  succeed(index: number, result: SuccessfulUserRecordResult): void {
    this.results[index] = result;
    this.settled();
  }

  fail(index: number, record: ProducerRecord, error: UserRecordFailedError | ProducerClosedError, result: FailedUserRecordResult): void {
    this.results[index] = result;
    (this.failures ??= []).push({ index, record, error });
    this.settled();
  }

  private settled(): void {
    if (--this.remaining > 0) return;
    if (this.failures === undefined) {
      this.resolve(this.results as SuccessfulUserRecordResult[]); // no failure: every slot holds a success
      return;
    }
    // Failures arrive in settlement order; report them in input order.
    this.failures.sort((a, b) => a.index - b.index);
    this.reject(new BatchFailedError(this.results, this.failures, { streamName: this.streamName }));
  }
}
