/**
 * Chaos: the producer against the mock (limits on) under a throttle storm, injected 500s, dropped
 * connections and slow responses (with windows slower than requestTimeout, so some requests time out
 * after the mock has written them). Checks that every put() settles, that every acknowledged record is
 * in the stream exactly where its result says, that nothing is lost, and that duplicates come only from
 * requests whose outcome was unknown (a dropped connection or a timeout).
 *
 * Seeded (CHAOS_SEED) and profiled (CHAOS_PROFILE=long); prints its seed and a summary table.
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { deaggregateWithReport } from '@kinesis-kit/aggregation';
import { seededRandom } from '@kinesis-kit/core';
import { startMockServer, type FaultRule, type MockServer } from '@kinesis-kit/mock';
import { KinesisProducer, type UserRecordResult } from '@kinesis-kit/producer';
import { afterEach, describe, expect, it } from 'vitest';
import { chaosSeed, isLongProfile, printChaosReport } from './chaos-report.js';
import { sleep, waitFor } from './wait.js';

const LONG = isLongProfile();
const SEED = chaosSeed(20261129);
const STREAM = 'chaos-producer';
const PROFILE = LONG
  ? { shards: 4, records: 200_000, wave: 2_000, waveGapMs: 100, slowWindows: 10, settleBoundMs: 600_000 }
  : { shards: 4, records: 20_000, wave: 1_000, waveGapMs: 100, slowWindows: 2, settleBoundMs: 90_000 };
const REQUEST_TIMEOUT_MS = 1_000;
const SLOW_WINDOW_LATENCY_MS = 1_500; // > REQUEST_TIMEOUT_MS: the client gives up, the mock still writes

/** Error codes of a PutRecords call the service answered (nothing was written, or per-entry results came back). */
const ANSWERED_ERRORS = new Set(['InternalFailureException', 'ServiceUnavailableException', 'ProvisionedThroughputExceededException', 'LimitExceededException']);

/** A failed request whose records may or may not have been written: a timeout or a connection that broke. */
function unknownOutcome(code: string): boolean {
  // RequestTimeout / TimeoutError, socket codes (ECONNRESET, ...), anything the service did not answer.
  return !ANSWERED_ERRORS.has(code);
}

let server: MockServer | undefined;
let reader: KinesisClient | undefined;
let producer: KinesisProducer | undefined;

afterEach(async () => {
  await producer?.close().catch(() => undefined);
  reader?.destroy();
  await server?.close();
  server = reader = producer = undefined;
});

interface Position {
  shardId: string;
  sequenceNumber: string;
  subSequenceNumber: number;
}

const positionKey = (p: Position): string => `${p.shardId}/${p.sequenceNumber}/${p.subSequenceNumber}`;

/** Every user record in the stream (all shards, from the trim horizon), by the id in its data. */
async function readBack(client: KinesisClient): Promise<{ byId: Map<number, Position[]>; kinesisRecords: number; foreign: number; discarded: number }> {
  const byId = new Map<number, Position[]>();
  let kinesisRecords = 0;
  let foreign = 0;
  let discarded = 0;
  const shards = (await client.send(new ListShardsCommand({ StreamName: STREAM }))).Shards ?? [];
  for (const shard of shards) {
    const range = { startingHashKey: shard.HashKeyRange!.StartingHashKey!, endingHashKey: shard.HashKeyRange!.EndingHashKey! };
    let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' })))
      .ShardIterator;
    while (iterator) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      const records = out.Records ?? [];
      for (const record of records) {
        kinesisRecords++;
        const report = deaggregateWithReport(record, { hashKeyRange: range });
        discarded += report.discardedOutOfRange;
        for (const u of report.records) {
          const id = Number(Buffer.from(u.data).toString('utf8').split('|')[0]);
          if (!Number.isInteger(id)) {
            foreign++;
            continue;
          }
          let list = byId.get(id);
          if (!list) byId.set(id, (list = []));
          list.push({ shardId: shard.ShardId!, sequenceNumber: u.sequenceNumber, subSequenceNumber: u.subSequenceNumber });
        }
      }
      if (records.length === 0 && (out.MillisBehindLatest ?? 0) === 0) break; // an open shard, read to its tip
      iterator = out.NextShardIterator;
    }
  }
  return { byId, kinesisRecords, foreign, discarded };
}

function faultRules(random: () => number, putWindowMs: number): FaultRule[] {
  const rules: FaultRule[] = [
    { operation: 'PutRecords', throttleRate: 0.3 }, // throttle storm: 30% of entries
    { operation: 'PutRecords', dropConnectionRate: 0.05 }, // no answer, connection destroyed
    { operation: 'PutRecords', errorRate: 0.1, errorCode: 'InternalFailureException', statusCode: 500 },
    { operation: 'ListShards', errorRate: 0.3, errorCode: 'InternalFailureException', statusCode: 500 },
    { operation: '*', latencyMs: 25 }, // every call slow
  ];
  // Windows slower than requestTimeout: the producer times out, the mock writes the records anyway.
  for (let i = 0; i < PROFILE.slowWindows; i++) {
    rules.push({ operation: 'PutRecords', latencyMs: SLOW_WINDOW_LATENCY_MS, afterMs: Math.floor(random() * putWindowMs), durationMs: 200 + Math.floor(random() * 300) });
  }
  return rules;
}

describe('producer chaos (mock with limits, seeded faults)', () => {
  it(
    'settles every put, writes every acknowledged record where its result says, loses nothing, duplicates only unknown outcomes',
    async () => {
      const random = seededRandom(SEED);
      server = await startMockServer({ streams: [{ name: STREAM, shardCount: PROFILE.shards }], seed: SEED });
      producer = new KinesisProducer({
        streamName: STREAM,
        ...server.clientConfig(),
        requestTimeout: REQUEST_TIMEOUT_MS,
        connectTimeout: REQUEST_TIMEOUT_MS,
        recordTtl: PROFILE.settleBoundMs,
        recordMaxBufferedTime: 50,
        retryMaxDelay: 1_000,
        metricsLevel: 'none',
      });

      const requestsByCode = new Map<string, number>();
      let requests = 0;
      let unknownOutcomeRequests = 0;
      let unknownOutcomeUserRecords = 0;
      let retryEvents = 0;
      let retriedRecords = 0;
      const retriesByCode = new Map<string, number>();
      let throttledEntries = 0;
      producer.on('requestCompleted', (e) => {
        requests++;
        if (e.errorCode === undefined) return;
        requestsByCode.set(e.errorCode, (requestsByCode.get(e.errorCode) ?? 0) + 1);
        if (unknownOutcome(e.errorCode)) {
          unknownOutcomeRequests++;
          unknownOutcomeUserRecords += e.userRecords;
        }
      });
      producer.on('retrying', (e) => {
        retryEvents++;
        retriedRecords += e.records;
        retriesByCode.set(e.errorCode, (retriesByCode.get(e.errorCode) ?? 0) + e.records);
        if (e.errorCode === 'ProvisionedThroughputExceededException') throttledEntries++;
      });

      const waves = Math.ceil(PROFILE.records / PROFILE.wave);
      server.setFaults({ seed: SEED, rules: faultRules(random, waves * PROFILE.waveGapMs) });

      const started = Date.now();
      const results: (UserRecordResult | Error | undefined)[] = new Array<UserRecordResult | Error | undefined>(PROFILE.records);
      let settled = 0;
      let id = 0;
      for (let w = 0; w < waves; w++) {
        for (let i = 0; i < PROFILE.wave && id < PROFILE.records; i++, id++) {
          const n = id;
          const pad = 'x'.repeat(40 + Math.floor(random() * 80));
          producer
            .put({ partitionKey: `pk-${Math.floor(random() * 10_000)}`, data: `${n}|${pad}` })
            .then(
              (r) => void (results[n] = r),
              (e: unknown) => void (results[n] = e instanceof Error ? e : new Error(String(e))),
            )
            .finally(() => void settled++);
        }
        await sleep(PROFILE.waveGapMs);
      }
      const allSettled = await waitFor(() => settled === PROFILE.records, PROFILE.settleBoundMs);
      const settleMs = Date.now() - started;
      expect({ allSettled, settled }).toEqual({ allSettled: true, settled: PROFILE.records });
      await producer.close();

      // Read back with the faults and limits off (verification, not chaos).
      server.setFaults({ rules: [] });
      server.setLimits(false);
      reader = new KinesisClient({ ...server.clientConfig(), maxAttempts: 3, requestHandler: new NodeHttpHandler() });
      const stream = await readBack(reader);

      const failed: string[] = [];
      const misplaced: string[] = [];
      let acknowledged = 0;
      let maxAttempts = 0;
      for (let n = 0; n < PROFILE.records; n++) {
        const r = results[n];
        if (r === undefined || r instanceof Error || !r.successful) {
          failed.push(`#${n}: ${r instanceof Error ? r.message : 'not successful'}`);
          continue;
        }
        acknowledged++;
        maxAttempts = Math.max(maxAttempts, r.attempts.length + (r.attemptsOmitted ?? 0));
        const want = positionKey({ shardId: r.shardId, sequenceNumber: r.sequenceNumber, subSequenceNumber: r.subSequenceNumber });
        const found = (stream.byId.get(n) ?? []).map(positionKey);
        if (!found.includes(want)) misplaced.push(`#${n}: acknowledged at ${want}, in the stream at [${found.join(', ')}]`);
      }
      let duplicates = 0;
      let recordsWithDuplicates = 0;
      const unknownIds: number[] = [];
      for (const [n, positions] of stream.byId) {
        if (n < 0 || n >= PROFILE.records) unknownIds.push(n);
        if (positions.length > 1) {
          duplicates += positions.length - 1;
          recordsWithDuplicates++;
        }
      }
      const lost = misplaced.filter((m) => m.endsWith('[]')).length;

      const faultRows: Record<string, number> = {};
      for (const [code, count] of [...requestsByCode].sort()) faultRows[`failed requests: ${code}`] = count;
      for (const [code, count] of [...retriesByCode].sort()) faultRows[`user records retried: ${code}`] = count;
      printChaosReport('producer chaos', SEED, {
        'user records put': PROFILE.records,
        'settled / acknowledged / failed': `${settled} / ${acknowledged} / ${failed.length}`,
        'time to settle all (ms)': settleMs,
        'PutRecords requests': requests,
        ...faultRows,
        'throttled containers (retry events)': throttledEntries,
        'retry events / user records retried': `${retryEvents} / ${retriedRecords}`,
        'max attempts of one record': maxAttempts,
        'unknown-outcome requests (user records)': `${unknownOutcomeRequests} (${unknownOutcomeUserRecords})`,
        'Kinesis records in stream': stream.kinesisRecords,
        'duplicates (extra copies / records)': `${duplicates} / ${recordsWithDuplicates}`,
        'misplaced (ack not at its position)': misplaced.length,
        lost,
      });

      expect(failed.slice(0, 10)).toEqual([]);
      expect(misplaced.slice(0, 10)).toEqual([]);
      expect(lost).toBe(0);
      expect(stream.foreign).toBe(0);
      expect(stream.discarded).toBe(0);
      expect(unknownIds).toEqual([]);
      // Every put() id is in the stream at least once.
      expect(stream.byId.size).toBe(PROFILE.records);
      // Duplicates only as retries of requests whose outcome was unknown: at most the user records they carried.
      expect(duplicates).toBeLessThanOrEqual(unknownOutcomeUserRecords);
      if (unknownOutcomeRequests === 0) expect(duplicates).toBe(0);
      // The chaos did happen (seeded: these hold for any seed at these rates and sizes).
      expect(requestsByCode.get('InternalFailureException') ?? 0).toBeGreaterThan(0);
      expect(throttledEntries).toBeGreaterThan(0);
      expect(unknownOutcomeRequests).toBeGreaterThan(0);
    },
    PROFILE.settleBoundMs + 120_000,
  );
});
