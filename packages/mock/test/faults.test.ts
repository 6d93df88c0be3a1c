import {
  DescribeStreamSummaryCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  SubscribeToShardCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ManualClock } from '@kinesis-kit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startMockServer, type FaultConfig, type MockServer, type MockServerOptions } from '../src/index.js';
import { errorOf, HANDLERS, kinesisClient, waitFor } from './helpers.js';

let server: MockServer | undefined;
let client: KinesisClient | undefined;

async function start(options: MockServerOptions, http1 = true): Promise<KinesisClient> {
  server = await startMockServer({ limits: false, streams: [{ name: 's', shardCount: 2 }], ...options });
  client = kinesisClient(server, http1);
  return client;
}

afterEach(async () => {
  client?.destroy();
  await server?.close();
  client = undefined;
  server = undefined;
});

const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ PartitionKey: `k${i}`, Data: new Uint8Array(8) }));

async function failurePattern(seed: number, rate: number): Promise<string> {
  const s = await startMockServer({ limits: false, streams: [{ name: 's', shardCount: 1 }], faults: { seed, rules: [{ operation: 'PutRecords', throttleRate: rate }] } });
  const c = kinesisClient(s, true);
  try {
    const res = await c.send(new PutRecordsCommand({ StreamName: 's', Records: batch(200) }));
    return res.Records!.map((r) => (r.ErrorCode ? 'x' : '.')).join('');
  } finally {
    c.destroy();
    await s.close();
  }
}

describe.each(HANDLERS)('fault injection over $protocol', ({ http1 }) => {
  it('fails chosen operations with the configured error code and status', async () => {
    const c = await start({ faults: { rules: [{ operation: 'DescribeStreamSummary', errorRate: 1, errorCode: 'LimitExceededException', statusCode: 400 }] } }, http1);
    const err = await errorOf(c.send(new DescribeStreamSummaryCommand({ StreamName: 's' })));
    expect(err.name).toBe('LimitExceededException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    await c.send(new ListShardsCommand({ StreamName: 's' })); // other operations are untouched
    server!.setFaults({ rules: [{ errorRate: 1 }] });
    const internal = await errorOf(c.send(new ListStreamsCommand({})));
    expect(internal.name).toBe('InternalFailureException');
    expect(internal.$metadata?.httpStatusCode).toBe(500);
    server!.setFaults(undefined);
    await c.send(new DescribeStreamSummaryCommand({ StreamName: 's' }));
  });

  it('drops connections without answering, then serves normally again', async () => {
    const c = await start({ faults: { rules: [{ operation: 'ListStreams', dropConnectionRate: 1 }] } }, http1);
    const err = await errorOf(c.send(new ListStreamsCommand({})));
    expect(err.name).not.toMatch(/Exception$/);
    server!.setFaults({ rules: [] });
    expect((await c.send(new ListStreamsCommand({}))).StreamNames).toEqual(['s']);
  });

  it('throttles PutRecords entries and other calls at throttleRate', async () => {
    const c = await start({ faults: { seed: 7, rules: [{ operation: 'PutRecords', throttleRate: 0.5 }, { operation: 'PutRecord', throttleRate: 1 }, { operation: 'GetShardIterator', throttleRate: 1 }] } }, http1);
    const res = await c.send(new PutRecordsCommand({ StreamName: 's', Records: batch(400) }));
    expect(res.FailedRecordCount).toBeGreaterThan(120);
    expect(res.FailedRecordCount).toBeLessThan(280);
    for (const r of res.Records!.filter((x) => x.ErrorCode)) expect(r.ErrorCode).toBe('ProvisionedThroughputExceededException');
    expect((await errorOf(c.send(new PutRecordCommand({ StreamName: 's', PartitionKey: 'k', Data: new Uint8Array(1) })))).name).toBe('ProvisionedThroughputExceededException');
    const it = await errorOf(c.send(new GetShardIteratorCommand({ StreamName: 's', ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST' })));
    expect(it.name).toBe('ProvisionedThroughputExceededException');
  });
});

describe('fault injection: determinism, windows, counts, latency, DynamoDB, subscriptions', () => {
  it('gives the same failures for the same seed', async () => {
    const a = await failurePattern(42, 0.3);
    const b = await failurePattern(42, 0.3);
    const c = await failurePattern(43, 0.3);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).toContain('x');
  });

  it('runs a throttle storm for durationMs after afterMs (on the server clock)', async () => {
    const clock = new ManualClock();
    const c = await start({ clock, faults: { rules: [{ operation: 'PutRecords', throttleRate: 1, afterMs: 1000, durationMs: 2000 }] } });
    const put = async () => (await c.send(new PutRecordsCommand({ StreamName: 's', Records: batch(10) }))).FailedRecordCount;
    expect(await put()).toBe(0);
    await clock.advance(1000);
    expect(await put()).toBe(10);
    await clock.advance(1999);
    expect(await put()).toBe(10);
    await clock.advance(1);
    expect(await put()).toBe(0);
  });

  it('applies a rule at most maxCount times', async () => {
    const c = await start({ faults: { rules: [{ operation: 'ListStreams', errorRate: 1, errorCode: 'ServiceUnavailableException', maxCount: 2 }] } });
    expect((await errorOf(c.send(new ListStreamsCommand({})))).$metadata?.httpStatusCode).toBe(503);
    expect((await errorOf(c.send(new ListStreamsCommand({})))).name).toBe('ServiceUnavailableException');
    await c.send(new ListStreamsCommand({}));
  });

  it('adds latency on the server clock', async () => {
    const clock = new ManualClock();
    const c = await start({ clock, faults: { rules: [{ operation: 'ListStreams', latencyMs: 10_000 }] } });
    let settled = false;
    const call = c.send(new ListStreamsCommand({})).finally(() => {
      settled = true;
    });
    await waitFor(() => clock.pendingTimers > 0); // the request has arrived and waits
    await clock.advance(9_000);
    expect(settled).toBe(false);
    await clock.advance(1_000);
    expect((await call).StreamNames).toEqual(['s']);
  });

  it('injects DynamoDB faults when the rule says service: dynamodb', async () => {
    await start({ faults: { rules: [{ service: 'dynamodb', operation: 'ListTables', throttleRate: 1 }] } });
    const ddb = new DynamoDBClient({ ...server!.clientConfig(), maxAttempts: 1 });
    try {
      expect((await errorOf(ddb.send(new ListTablesCommand({})))).name).toBe('ProvisionedThroughputExceededException');
      server!.setFaults({ rules: [{ operation: '*', errorRate: 1 }] }); // Kinesis-only by default
      expect((await ddb.send(new ListTablesCommand({}))).TableNames).toEqual([]);
    } finally {
      ddb.destroy();
    }
  });

  it('stalls subscriptions after initial-response, or fails their first event', async () => {
    const faults: FaultConfig = { rules: [{ operation: 'SubscribeToShard', stall: true }] };
    const c = await start({ faults, subscribeCooldownMs: 0 });
    const { consumer } = server!.engine.registerConsumer(server!.engine.streamArn('s'), 'app');
    const stalled = await c.send(new SubscribeToShardCommand({ ConsumerARN: consumer.arn, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'TRIM_HORIZON' } }));
    expect(server!.activeSubscriptions).toBe(1); // send() resolved on initial-response alone
    const events = stalled.EventStream![Symbol.asyncIterator]();
    expect(server!.endSubscriptions({ shardId: 'shardId-000000000000' })).toBe(1);
    expect((await events.next()).done).toBe(true);

    server!.setFaults({ rules: [{ operation: 'SubscribeToShard', streamErrorRate: 1, streamErrorCode: 'ResourceNotFoundException' }] });
    const failing = await c.send(new SubscribeToShardCommand({ ConsumerARN: consumer.arn, ShardId: 'shardId-000000000000', StartingPosition: { Type: 'TRIM_HORIZON' } }));
    const err = await errorOf(failing.EventStream![Symbol.asyncIterator]().next());
    expect(err.name).toBe('ResourceNotFoundException');
  });

  it('rejects invalid fault rules with a typed error', async () => {
    await expect(startMockServer({ faults: { rules: [{ errorRate: 2 }] } })).rejects.toMatchObject({ name: 'MockConfigError', field: 'faults.rules[0].errorRate' });
  });
});
