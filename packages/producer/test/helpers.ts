import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { deaggregateWithReport, type UserRecord } from '@kinesis-kit/aggregation';
import { startMockServer, type MockServer, type MockServerOptions } from '@kinesis-kit/mock';
import { afterEach } from 'vitest';
import type { KinesisProducer } from '../src/index.js';

/** A client the way the producer docs ask for an injected one: SDK retries off. */
export function testClient(server: MockServer): KinesisClient {
  return new KinesisClient({ ...server.clientConfig(), maxAttempts: 1 });
}

/**
 * A test file's mock server, client and producers, released after each test: producers closed
 * (aborted after 5 s), the client destroyed, the server closed.
 */
export function useMockPerTest(): {
  start(options: MockServerOptions): Promise<{ server: MockServer; client: KinesisClient }>;
  track(producer: KinesisProducer): KinesisProducer;
} {
  let server: MockServer | undefined;
  let client: KinesisClient | undefined;
  const producers: KinesisProducer[] = [];
  afterEach(async () => {
    for (const p of producers.splice(0)) await p.close({ signal: AbortSignal.timeout(5_000) });
    client?.destroy();
    client = undefined;
    await server?.close();
    server = undefined;
  });
  return {
    start: async (options) => {
      server = await startMockServer(options);
      client = testClient(server);
      return { server, client };
    },
    track: (producer) => {
      producers.push(producer);
      return producer;
    },
  };
}

export interface ReadBack {
  /** User records per shard, deaggregated with the shard's hash range (as the KCL does). */
  byShard: Map<string, UserRecord[]>;
  /** User records dropped by the range check (whole containers). */
  discardedOutOfRange: number;
  ranges: Map<string, { startingHashKey: string; endingHashKey: string }>;
}

/**
 * Reads every shard (open and closed) from TRIM_HORIZON with the real SDK and deaggregates each
 * Kinesis record with its shard's hash key range, like a KCL consumer would. Turns read limits off
 * while reading, so the test does not wait on GetRecords' 5 calls/s.
 */
export async function readBack(server: MockServer, client: KinesisClient, streamName: string): Promise<ReadBack> {
  server.setLimits(false);
  const shards = (await client.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const byShard = new Map<string, UserRecord[]>();
  const ranges = new Map<string, { startingHashKey: string; endingHashKey: string }>();
  let discardedOutOfRange = 0;
  for (const shard of shards) {
    const range = { startingHashKey: shard.HashKeyRange!.StartingHashKey!, endingHashKey: shard.HashKeyRange!.EndingHashKey! };
    ranges.set(shard.ShardId!, range);
    const out: UserRecord[] = [];
    let iterator = (
      await client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))
    ).ShardIterator;
    while (iterator) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of page.Records ?? []) {
        const report = deaggregateWithReport(record, { hashKeyRange: range });
        discardedOutOfRange += report.discardedOutOfRange;
        out.push(...report.records);
      }
      if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
      iterator = page.NextShardIterator;
    }
    byShard.set(shard.ShardId!, out);
  }
  return { byShard, discardedOutOfRange, ranges };
}

export const text = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');

/** What a client has started so far: PutRecords requests and the partition keys of their entries. */
export interface PutRecordsLog {
  requests: number;
  keys: string[];
}

/**
 * Logs the PutRecords requests a client starts (at the SDK's first middleware step, so a request
 * counts from the moment the producer sends it, before any network I/O).
 */
export function logPutRecords(client: KinesisClient): PutRecordsLog {
  const log: PutRecordsLog = { requests: 0, keys: [] };
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'PutRecordsCommand') {
        log.requests++;
        for (const r of (args.input as { Records?: { PartitionKey?: string }[] }).Records ?? []) log.keys.push(r.PartitionKey ?? '');
      }
      return next(args);
    },
    { step: 'initialize', name: 'testLogPutRecords' },
  );
  return log;
}
