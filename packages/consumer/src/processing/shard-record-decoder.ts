import type { _Record } from '@aws-sdk/client-kinesis';
import { deaggregateWithReport, isSequenceNumber, type ExtendedSequenceNumber, type HashKeyRange, type HashKeyRangeStrings, toHashKeyRange, type UserRecord } from '@kinesis-kit/aggregation';

export interface DecodedBatch {
  records: UserRecord[];
  /** User records dropped because their container had one outside the shard's hash range (KCL rule). */
  discardedOutOfRange: number;
  /** User records dropped because they were at or before the resume position (a restart mid-container). */
  skippedBeforeResume: number;
  /** Data bytes of the delivered user records. */
  bytes: number;
}

/**
 * Turns a shard's Kinesis records into user records: deaggregates KPL containers (checksum
 * checked; corrupt ones pass through whole), applies the shard's hash range, and drops what was
 * already delivered or checkpointed — after an AT_SEQUENCE_NUMBER restart the checkpointed
 * container comes back, and only its sub-records after the checkpoint are new.
 */
export class ShardRecordDecoder {
  private readonly range: HashKeyRange | undefined;
  private after: ExtendedSequenceNumber | undefined;

  constructor(hashKeyRange: HashKeyRangeStrings | undefined, resumeAfter: ExtendedSequenceNumber | undefined) {
    this.range = hashKeyRange && toHashKeyRange(hashKeyRange);
    this.after = resumeAfter && isSequenceNumber(resumeAfter.sequenceNumber) ? { ...resumeAfter } : undefined;
  }

  decode(input: readonly _Record[]): DecodedBatch {
    const records: UserRecord[] = [];
    let discardedOutOfRange = 0;
    let skippedBeforeResume = 0;
    let bytes = 0;
    const after = this.after;
    for (const record of input) {
      const sequenceNumber = record.SequenceNumber ?? '';
      const order = after ? compareDecimal(sequenceNumber, after.sequenceNumber) : 1;
      if (order < 0) {
        skippedBeforeResume += 1;
        continue;
      }
      const report = deaggregateWithReport(record, this.range ? { hashKeyRange: this.range } : {});
      discardedOutOfRange += report.discardedOutOfRange;
      for (const user of report.records) {
        if (order === 0 && user.subSequenceNumber <= (after!.subSequenceNumber ?? 0)) {
          skippedBeforeResume += 1;
          continue;
        }
        records.push(user);
        bytes += user.data.length;
      }
    }
    const last = input[input.length - 1];
    if (last?.SequenceNumber && (!after || compareDecimal(last.SequenceNumber, after.sequenceNumber) > 0)) {
      const lastUser = records[records.length - 1];
      // Everything up to the last container is done: later batches only need to be after it
      // (never moved back by a batch of old, re-fetched records).
      this.after =
        lastUser && lastUser.sequenceNumber === last.SequenceNumber
          ? { sequenceNumber: lastUser.sequenceNumber, subSequenceNumber: lastUser.subSequenceNumber }
          : { sequenceNumber: last.SequenceNumber, subSequenceNumber: Number.MAX_SAFE_INTEGER };
    }
    return { records, discardedOutOfRange, skippedBeforeResume, bytes };
  }
}

/** Numeric order of two sequence numbers as Kinesis writes them (no leading zeros): compareSequenceNumbers without its validation, on the per-record path. */
function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}
