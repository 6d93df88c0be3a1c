/** Shared pieces of the producer benchmark: the client, the records, the plain PutRecords loop. */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { keepAliveKinesisClient } from '../kinesis-client.js';

export const RECORD_BYTES = 100;
export const DISTINCT_KEYS = 100_000;
/** Records per call, for the plain loop's PutRecords and the producer's putMany(). */
export const RECORDS_PER_CALL = 500;
const payloads = Array.from({ length: 16 }, (_, i) => Buffer.alloc(RECORD_BYTES, 0x61 + i));

/** 100k distinct keys, base 36 (at most 4 characters). */
export const recordKey = (i: number): string => (i % DISTINCT_KEYS).toString(36);
export const recordData = (i: number): Buffer => payloads[i & 15]!;

/** One client for both sides: HTTP/1.1 keep-alive, SDK retries off (as the producer asks). */
export function benchClient(endpoint: string, maxSockets = 24): KinesisClient {
  return keepAliveKinesisClient(endpoint, maxSockets);
}

export interface PlainResult {
  /** Records acknowledged per second (within the measuring window). */
  rate: number;
  requests: number;
  /** Requests with at least one throttled entry. */
  throttledRequests: number;
}

/**
 * The baseline: PutRecords of 500 unaggregated records per call, `concurrency` loops, for `ms`;
 * counts acknowledged entries after `warmupMs` (failed entries are not resent: each call takes new records).
 */
export async function plainLoop(client: KinesisClient, ms: number, warmupMs: number, concurrency: number): Promise<PlainResult> {
  const start = performance.now();
  const end = start + ms;
  let counted = 0;
  let requests = 0;
  let throttledRequests = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const records = Array.from({ length: RECORDS_PER_CALL }, () => {
          const i = next++;
          return { PartitionKey: recordKey(i), Data: recordData(i) };
        });
        const out = await client.send(new PutRecordsCommand({ StreamName: 'bench', Records: records }));
        requests++;
        if ((out.FailedRecordCount ?? 0) > 0) throttledRequests++;
        if (performance.now() - start >= warmupMs) counted += records.length - (out.FailedRecordCount ?? 0);
      }
    }),
  );
  return { rate: (counted * 1000) / (performance.now() - start - warmupMs), requests, throttledRequests };
}
