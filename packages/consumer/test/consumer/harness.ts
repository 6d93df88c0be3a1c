/**
 * Integration harness: the mock (Kinesis + DynamoDB on one endpoint) driven by the real SDK
 * clients, the real producer for input, and helpers to wait for conditions and to check what a
 * consumer delivered (every record, per-key order).
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach } from 'vitest';
import type { UserRecord } from '@kinesis-kit/aggregation';
import { startMockServer, type MockServer, type MockServerOptions } from '@kinesis-kit/mock';
import { KinesisProducer } from '@kinesis-kit/producer';
import type { LeaseTable } from '../../src/index.js';

export interface Backend {
  server: MockServer;
  kinesis: KinesisClient;
  dynamoDb: DynamoDBClient;
  close(): Promise<void>;
}

/** The mock with the given options (limits, faults, ...) and SDK clients over HTTP/1.1 with SDK retries off. */
export async function startBackend(options: MockServerOptions = {}): Promise<Backend> {
  const server = await startMockServer(options);
  const config = { ...server.clientConfig(), maxAttempts: 1 };
  const kinesis = new KinesisClient({ ...config, requestHandler: new NodeHttpHandler() });
  const dynamoDb = new DynamoDBClient({ ...config, requestHandler: new NodeHttpHandler() });
  let closing: Promise<void> | undefined;
  return {
    server,
    kinesis,
    dynamoDb,
    // Idempotent: a test may close it itself (to check for leaked handles) before the afterEach hook.
    close: () =>
      (closing ??= (async () => {
        kinesis.destroy();
        dynamoDb.destroy();
        await server.close();
      })()),
  };
}

/** What a test starts that must be stopped after it (a consumer). */
export interface Stoppable {
  stop(options: { timeoutMillis: number }): Promise<unknown>;
}

/**
 * The hooks of a consumer test file: after each test, the consumers it passed to `track` are
 * stopped and the backend it made with `start` is closed.
 */
export function useBackendPerTest(): { start(options?: MockServerOptions): Promise<Backend>; track<C extends Stoppable>(consumer: C): C } {
  let backend: Backend | undefined;
  const consumers: Stoppable[] = [];
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.stop({ timeoutMillis: 2_000 });
    await backend?.close();
    backend = undefined;
  });
  return {
    start: async (options) => (backend = await startBackend(options)),
    track: (consumer) => {
      consumers.push(consumer);
      return consumer;
    },
  };
}

export async function createStream(backend: Backend, streamName: string, shardCount: number): Promise<void> {
  await backend.kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
}

/** Puts `count` records per key through the KPL-style producer (aggregated, in order per key). Returns what was acknowledged. */
export async function produce(backend: Pick<Backend, 'kinesis'>, streamName: string, keys: number, perKey: number, from = 0): Promise<number> {
  const producer = new KinesisProducer({ streamName, kinesisClient: backend.kinesis, strictOrdering: true, recordMaxBufferedTime: 20 });
  try {
    const puts: Promise<unknown>[] = [];
    for (let n = from; n < from + perKey; n++) {
      for (let k = 0; k < keys; k++) puts.push(producer.put({ partitionKey: `key-${k}`, data: encode(`key-${k}`, n) }));
    }
    await Promise.all(puts);
    return puts.length;
  } finally {
    await producer.close();
  }
}

export function encode(key: string, n: number): Buffer {
  return Buffer.from(`${key}#${n}`);
}

export function decode(record: UserRecord): { key: string; n: number } {
  const [key, n] = Buffer.from(record.data).toString('utf8').split('#');
  return { key: key!, n: Number(n) };
}

/** What consumers delivered, per key, in delivery order. */
export class Deliveries {
  readonly byKey = new Map<string, number[]>();
  total = 0;
  private readonly seen = new Set<string>();

  add(records: readonly UserRecord[]): void {
    for (const r of records) {
      const { key, n } = decode(r);
      let list = this.byKey.get(key);
      if (!list) this.byKey.set(key, (list = []));
      list.push(n);
      this.seen.add(`${key}#${n}`);
      this.total++;
    }
  }

  /** Distinct (key, n) delivered. */
  get unique(): number {
    return this.seen.size;
  }

  has(key: string, n: number): boolean {
    return this.seen.has(`${key}#${n}`);
  }

  /** Keys whose first deliveries were not in put order (a redelivery of an earlier record is not a violation). */
  orderViolations(): string[] {
    const out: string[] = [];
    for (const [key, list] of this.byKey) {
      const seen = new Set<number>();
      let highest = -1;
      for (const n of list) {
        if (seen.has(n)) continue;
        seen.add(n);
        if (n < highest) out.push(`${key}: ${n} after ${highest}`);
        highest = Math.max(highest, n);
      }
    }
    return out;
  }

  missing(keys: number, perKey: number): string[] {
    const out: string[] = [];
    for (let k = 0; k < keys; k++) {
      const got = new Set(this.byKey.get(`key-${k}`) ?? []);
      for (let n = 0; n < perKey; n++) if (!got.has(n)) out.push(`key-${k}#${n}`);
    }
    return out;
  }
}

/** Polls `condition` every 20 ms until it holds; fails with `what` after `timeoutMs` (a bound, not a timing assertion). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Items can be written once a table is ACTIVE (dynalite makes it so a moment after CreateTable). */
export async function untilTableActive(dynamoDb: DynamoDBClient, tableName: string): Promise<void> {
  await until(async () => (await dynamoDb.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus === 'ACTIVE', `${tableName} active`);
}

/**
 * Takes `leaseKey` for `owner` as another KCL worker would: a take fenced on the counter just read.
 * The holder's renewals and checkpoints also move the counter, so a take can lose that race under
 * load; it reads again and retries (up to `attempts`) rather than failing the test on timing.
 */
export async function stealLease(table: LeaseTable, leaseKey: string, owner: string, attempts = 20): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    const lease = await table.getLease(leaseKey);
    if (!lease) throw new Error(`no lease ${leaseKey}`);
    if ((await table.takeLease(lease, owner)).ok) return;
  }
  throw new Error(`could not take ${leaseKey} for ${owner} in ${attempts} attempts`);
}

/** Lease settings that keep integration tests short. */
export const FAST_LEASES = {
  failoverTimeMillis: 1_500,
  takerInitialJitterMillis: 50,
  fastTakerIntervalMillis: 200,
} as const;
