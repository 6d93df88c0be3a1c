import { KinesisClient, PutRecordsCommand, type PutRecordsCommandInput } from '@aws-sdk/client-kinesis';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { afterEach, describe, expect, it } from 'vitest';
import { KinesisProducer } from '../src/index.js';
import { useNativeRecordsBody } from '../src/records-body.js';
import { readBack, testClient } from './helpers.js';

let server: MockServer | undefined;
let client: KinesisClient | undefined;
let producer: KinesisProducer | undefined;

afterEach(async () => {
  await producer?.close({ signal: AbortSignal.timeout(5_000) });
  producer = undefined;
  client?.destroy();
  client = undefined;
  await server?.close();
  server = undefined;
});

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const awkwardKeys = ['plain', 'quote " and \\ backslash', 'control \n\t\u0001', 'ünïcödé 鍵 😀', '%s {"Records":[]}'];

/** Sends the command and returns the body as it left the client (after the serializer, before signing). */
async function sentBody(c: KinesisClient, command: PutRecordsCommand): Promise<unknown> {
  let body: unknown;
  command.middlewareStack.add(
    (next) => (args) => {
      const b = (args.request as { body: Uint8Array | string }).body;
      body = JSON.parse(typeof b === 'string' ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'));
      return next(args);
    },
    { step: 'build', name: 'captureBody' },
  );
  const out = await c.send(command);
  expect(out.FailedRecordCount).toBe(0);
  return body;
}

describe('PutRecords bodies written natively', () => {
  it("are the JSON the SDK's serializer writes for the same input, and the mock accepts both", async () => {
    server = await startMockServer({ streams: [{ name: 's', shardCount: 2 }] });
    client = testClient(server);
    const input: PutRecordsCommandInput = {
      StreamName: 's',
      Records: awkwardKeys.map((k, i) => ({ Data: allBytes.subarray(i), PartitionKey: k, ...(i % 2 ? { ExplicitHashKey: String(i) } : {}) })),
    };
    let mismatches = 0;
    const native = await sentBody(client, useNativeRecordsBody(new PutRecordsCommand(input), () => void mismatches++));
    const sdk = await sentBody(client, new PutRecordsCommand(input));
    expect(native).toEqual(sdk);
    expect(mismatches).toBe(0);
  });

  it('carry any key and any bytes: a producer reads back what it put, aggregated and not', async () => {
    server = await startMockServer({ streams: [{ name: 's', shardCount: 2 }] });
    client = testClient(server);
    for (const aggregationEnabled of [false, true]) {
      producer = new KinesisProducer({ streamName: 's', kinesisClient: client, aggregationEnabled, recordMaxBufferedTime: 5 });
      await producer.ready();
      await producer.putMany(awkwardKeys.map((k, i) => ({ partitionKey: `${aggregationEnabled}:${k}`, data: allBytes.subarray(i * 7) })));
      await producer.close();
      producer = undefined;
    }
    const back = [...(await readBack(server, client, 's')).byShard.values()].flat();
    expect(back).toHaveLength(2 * awkwardKeys.length);
    for (const aggregationEnabled of [false, true]) {
      awkwardKeys.forEach((k, i) => {
        const r = back.find((b) => b.partitionKey === `${aggregationEnabled}:${k}`);
        expect(Buffer.from(r!.data)).toEqual(Buffer.from(allBytes.subarray(i * 7)));
      });
    }
  });

  it("fall back to the SDK's serializer when its body is not the one expected: the first request fails before sending, then nothing more", async () => {
    server = await startMockServer({ streams: [{ name: 's', shardCount: 1 }] });
    // Once, something between the producer's middleware and the serializer changes the records the
    // serializer sees, so its body has no empty list to fill. (Added at send(), after the
    // producer's own middleware, it sits closer to the serializer.)
    let changed = false;
    const intruder = (next: (args: unknown) => Promise<unknown>) => (args: { input: object }) =>
      next({ ...args, input: { ...args.input, Records: [{ Data: new Uint8Array(1), PartitionKey: 'intruder' }] } });
    const c = new KinesisClient({ ...server.clientConfig(), maxAttempts: 1 });
    const send = c.send.bind(c) as (command: unknown, options?: unknown) => Promise<unknown>;
    c.send = ((command: unknown, options?: unknown) => {
      if (command instanceof PutRecordsCommand && !changed) {
        changed = true;
        command.middlewareStack.addRelativeTo(intruder as never, { name: 'intruder', relation: 'before', toMiddleware: 'serializerMiddleware' });
      }
      return send(command, options);
    }) as typeof c.send;
    client = c;
    let requests = 0;
    c.middlewareStack.add(
      (next) => (args) => {
        if ((args.request as { headers: Record<string, string> }).headers['x-amz-target']?.endsWith('.PutRecords')) requests++;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'countPutRecords' },
    );
    producer = new KinesisProducer({ streamName: 's', kinesisClient: c, retryBaseDelay: 1, retryMaxDelay: 5 });
    await producer.ready();
    const first = await producer.put({ partitionKey: 'a', data: 'first' });
    expect(first.attempts.map((a) => a.successful)).toEqual([false, true]);
    expect(first.attempts[0]!.errorMessage).toMatch(/did not serialize PutRecords/);
    const second = await producer.put({ partitionKey: 'b', data: 'second' });
    expect(second.attempts.map((a) => a.successful)).toEqual([true]);
    expect(requests).toBe(2); // the failed attempt never reached signing, let alone the network
    const back = [...(await readBack(server, c, 's')).byShard.values()].flat();
    expect(back.map((r) => r.partitionKey)).toEqual(['a', 'b']);
  });
});
