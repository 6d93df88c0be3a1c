import type { UserRecord } from '@kinesis-kit/aggregation';
import { KinesisConsumerError } from '../errors.js';
import { firstFailedIndex } from './batch-delivery.js';
import type {
  EachBatchHandler,
  EachRecordHandler,
  ProcessRecordsInput,
  ProcessRecordsResult,
  ShardRecordProcessor,
  ShardRecordProcessorFactory,
} from './processor.js';

/**
 * The KafkaJS-style shortcut as a ShardRecordProcessor: the handler sees the records, and the
 * consumer checkpoints after each batch that succeeds (up to the first failed record on partial
 * success), at shard end and on graceful shutdown.
 */
export function eachBatchProcessorFactory(handler: EachBatchHandler): ShardRecordProcessorFactory {
  return (shardId) => ({
    async processRecords(input) {
      const result = await handler({
        shardId,
        records: input.records,
        millisBehindLatest: input.millisBehindLatest,
        isAtShardEnd: input.isAtShardEnd,
        attempt: input.attempt,
        signal: input.signal,
      });
      await checkpointProcessed(input, result ?? undefined);
      return result;
    },
    ...checkpointingLifecycle(),
  });
}

/** eachRecord: records one at a time, in order; a throw makes that record and the rest of the batch fail (and be retried). */
export function eachRecordProcessorFactory(handler: EachRecordHandler): ShardRecordProcessorFactory {
  return (shardId) => ({
    async processRecords(input) {
      const { records, signal } = input;
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!;
        try {
          await handler({ shardId, record, signal });
        } catch (err) {
          if (i === 0) throw err;
          const result: ProcessRecordsResult = { batchItemFailures: [position(record)] };
          await checkpointProcessed(input, result);
          // The failure itself is reported by the failure policy, which retries from this record.
          throw Object.assign(asError(err), { batchItemFailures: result.batchItemFailures });
        }
      }
      await checkpointProcessed(input, undefined);
    },
    ...checkpointingLifecycle(),
  });
}

function checkpointingLifecycle(): Pick<ShardRecordProcessor, 'shardEnded' | 'shutdownRequested'> {
  return {
    async shardEnded({ checkpointer }) {
      await checkpointer.checkpoint();
    },
    async shutdownRequested({ checkpointer }) {
      await checkpointer.checkpoint();
    },
  };
}

/** Checkpoints the last record before the first failed one (all of them when nothing failed). */
async function checkpointProcessed(input: ProcessRecordsInput, result: ProcessRecordsResult | undefined): Promise<void> {
  const { records, checkpointer } = input;
  const end = firstFailedIndex(records, result) ?? records.length;
  if (end === 0) return;
  try {
    await checkpointer.checkpoint(records[end - 1]!);
  } catch (err) {
    // The records were processed: a checkpoint that could not be written now (DynamoDB throttling,
    // a transient error) is covered by the next one; failing the batch would only run it again.
    if (err instanceof KinesisConsumerError && err.retriable) return;
    throw err;
  }
}

function position(record: UserRecord): { sequenceNumber: string; subSequenceNumber: number } {
  return { sequenceNumber: record.sequenceNumber, subSequenceNumber: record.subSequenceNumber };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
