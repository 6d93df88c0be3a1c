/**
 * An AWS Lambda handler for a Kinesis event source whose producer uses KPL aggregation: Lambda hands
 * over the containers, `deaggregate` splits them into user records (KCL rules: a corrupt container
 * passes through as one record, never dropped). Failed records are reported back by sequence number
 * (batchItemFailures), so Lambda retries from the first failure.
 */
import { deaggregate, type LambdaKinesisEventRecord, type UserRecord } from '@kinesis-kit/aggregation';

export interface KinesisEvent {
  Records: LambdaKinesisEventRecord[];
}

export interface BatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export function makeHandler(processRecord: (record: UserRecord) => Promise<void>) {
  return async function handler(event: KinesisEvent): Promise<BatchResponse> {
    for (const container of event.Records) {
      const records = deaggregate(container);
      for (const record of records) {
        try {
          await processRecord(record);
        } catch {
          // Lambda retries from this container; sub-records before this one are redelivered too.
          return { batchItemFailures: [{ itemIdentifier: record.sequenceNumber }] };
        }
      }
    }
    return { batchItemFailures: [] };
  };
}

export const handler = makeHandler(async (record) => {
  console.log(record.partitionKey, record.subSequenceNumber, Buffer.from(record.data).toString('utf8'));
});
