import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  RegisterStreamConsumerCommand,
  SplitShardCommand,
  SubscribeToShardCommand,
  type GetRecordsCommandInput,
  type GetRecordsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { MemoryLogger } from '@kinesis-kit/core';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { KinesisProducer } from '@kinesis-kit/producer';
import { Readable } from 'node:stream';
import type { DeserializeMiddleware } from '@smithy/types';
import { afterEach, describe, expect, it } from 'vitest';
import { NativeRecordData } from '../../src/retrieval/native-record-data.js';
import { useNativeRecordData } from '../../src/retrieval/records-response.js';
import { useNativeEventRecordData } from '../../src/retrieval/event-record-data.js';
import { FanOutRequestHandler } from '../../src/index.js';

// GetRecords and SubscribeToShard with Data decoded by the consumer (records-response.ts,
// event-record-data.ts) against the mock, compared with what the SDK alone makes of the same data.

let server: MockServer | undefined;
let kinesis: KinesisClient | undefined;

afterEach(async () => {
  kinesis?.destroy();
  await server?.close();
  server = kinesis = undefined;
});

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const awkwardKeys = ['plain', 'quote " and \\ backslash', 'ünïcödé 鍵 😀', '"Data":"AAAA"', 'control \n\t'];

async function setup(options: { requestHandler?: FanOutRequestHandler } = {}): Promise<KinesisClient> {
  server = await startMockServer({ streams: [{ name: 'read', shardCount: 1 }], subscribeCooldownMs: 1 });
  kinesis = new KinesisClient({ ...server.clientConfig(), maxAttempts: 1, ...options });
  // Raw records (every byte value, awkward keys), then KPL-aggregated ones through the producer.
  await kinesis.send(
    new PutRecordsCommand({
      StreamName: 'read',
      Records: awkwardKeys.map((PartitionKey, i) => ({ PartitionKey, Data: i === 0 ? allBytes : allBytes.subarray(i * 40, i * 40 + i) })),
    }),
  );
  const producer = new KinesisProducer({ streamName: 'read', kinesisClient: kinesis });
  await producer.putMany(Array.from({ length: 300 }, (_, i) => ({ partitionKey: awkwardKeys[i % awkwardKeys.length]!, data: allBytes.subarray(i % 200) })));
  await producer.close();
  return kinesis;
}

async function iterator(client: KinesisClient, shardId: string): Promise<string> {
  const out = await client.send(new GetShardIteratorCommand({ StreamName: 'read', ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
  return out.ShardIterator!;
}

/**
 * What the SDK's deserializer reads: a middleware between it and `ours` that keeps a copy of the
 * body `ours` hands on (a Buffer, or the stream it reads, teed).
 */
function probeBody(command: GetRecordsCommand | SubscribeToShardCommand, ours: string): { text: string } {
  const seen = { text: '' };
  const probe: DeserializeMiddleware<object, object> = (next) => async (args) => {
    const result = await next(args);
    const response = result.response as { body: unknown };
    if (Buffer.isBuffer(response.body)) seen.text = response.body.toString('latin1');
    else if (response.body instanceof Readable) {
      const source = response.body;
      response.body = Readable.from(
        (async function* () {
          for await (const chunk of source) {
            seen.text += Buffer.from(chunk as Uint8Array).toString('latin1');
            yield chunk as Uint8Array;
          }
        })(),
        { objectMode: false },
      );
    }
    return result;
  };
  command.middlewareStack.addRelativeTo(probe as never, { relation: 'before', toMiddleware: ours, name: 'probe' });
  return seen;
}

/** The response with every Data as a plain array, so the SDK's Uint8Array and our Buffer compare equal. */
function comparable(out: GetRecordsCommandOutput): unknown {
  const { $metadata: _metadata, ...rest } = out;
  return { ...rest, Records: out.Records?.map((r) => ({ ...r, Data: [...(r.Data ?? [])] })) };
}

describe('GetRecords Data decoded by the consumer', () => {
  it('gives the same output as the SDK alone: raw and aggregated records, awkward keys, ChildShards at a closed shard', async () => {
    const client = await setup();
    const shards = (await client.send(new ListShardsCommand({ StreamName: 'read' }))).Shards!;
    await client.send(new SplitShardCommand({ StreamName: 'read', ShardToSplit: shards[0]!.ShardId!, NewStartingHashKey: (2n ** 127n).toString() }));
    const it = await iterator(client, shards[0]!.ShardId!);

    const sdk = await client.send(new GetRecordsCommand({ ShardIterator: it }));
    const command = useNativeRecordData(new GetRecordsCommand({ ShardIterator: it }), () => expect.unreachable());
    const seen = probeBody(command, 'kinesisKitTakeRecordData');
    const ours = await client.send(command);
    // Proof that our path ran: the SDK was handed a body with every Data taken out.
    expect(seen.text.match(/"Data":""/g)).toHaveLength(sdk.Records!.length);
    expect(sdk.Records!.length).toBeGreaterThan(awkwardKeys.length);
    expect(sdk.ChildShards).toHaveLength(2);
    expect(comparable(ours)).toEqual(comparable(sdk));
    expect(Buffer.from(ours.Records![0]!.Data!).equals(Buffer.from(allBytes))).toBe(true);
    // Plain Uint8Arrays, as the SDK gives them (a Buffer's slice() would not copy).
    expect(ours.Records!.every((r) => r.Data!.constructor === Uint8Array)).toBe(true);
  });

  it('after a mismatch fails that call with a retriable error, warns once, and leaves later calls to the SDK', async () => {
    const client = await setup();
    const shardId = (await client.send(new ListShardsCommand({ StreamName: 'read' }))).Shards![0]!.ShardId!;
    const it = await iterator(client, shardId);
    const logger = new MemoryLogger();
    const native = new NativeRecordData(client, logger);
    expect(native.enabled).toBe(true);

    // Something between the SDK's deserializer and ours that drops the first record from the body.
    const intruder: DeserializeMiddleware<GetRecordsCommandInput, GetRecordsCommandOutput> = (next) => async (args) => {
      const result = await next(args);
      const response = result.response as { body: Buffer };
      const parsed = JSON.parse(response.body.toString('utf8')) as { Records: unknown[] };
      parsed.Records.shift();
      response.body = Buffer.from(JSON.stringify(parsed));
      return result;
    };
    const first = native.apply(new GetRecordsCommand({ ShardIterator: it }));
    first.middlewareStack.addRelativeTo(intruder, { relation: 'before', toMiddleware: 'kinesisKitTakeRecordData', name: 'intruder' });
    await expect(client.send(first)).rejects.toMatchObject({ code: 'RECORD_DATA_MISMATCH' });
    expect(native.enabled).toBe(false);
    expect(logger.entries.filter((e) => e.level === 'warn')).toHaveLength(1);

    const second = native.apply(new GetRecordsCommand({ ShardIterator: it }));
    expect(second.middlewareStack.identify().some((name) => name.startsWith('kinesisKit'))).toBe(false);
    const sdk = await client.send(new GetRecordsCommand({ ShardIterator: it }));
    // Records only: an open shard's NextShardIterator carries the time it was issued.
    expect((comparable(await client.send(second)) as { Records: unknown }).Records).toEqual((comparable(sdk) as { Records: unknown }).Records);
  });

  it('is off for a client that does not speak awsJson1_1', () => {
    const native = new NativeRecordData({ config: { protocol: { getShapeId: () => 'smithy.protocols#rpcv2Cbor' } } } as never, new MemoryLogger());
    expect(native.enabled).toBe(false);
    const command = new GetRecordsCommand({ ShardIterator: 'x' });
    expect(native.apply(command).middlewareStack.identify().some((name) => name.startsWith('kinesisKit'))).toBe(false);
  });

  it('gives the same SubscribeToShard events as the SDK alone, over both HTTP/2 handlers', async () => {
    for (const requestHandler of [undefined, new FanOutRequestHandler()]) {
      const client = await setup(requestHandler === undefined ? {} : { requestHandler });
      const shardId = (await client.send(new ListShardsCommand({ StreamName: 'read' }))).Shards![0]!.ShardId!;
      const expected = (await client.send(new GetRecordsCommand({ ShardIterator: await iterator(client, shardId) }))).Records!.length;
      const arn = server!.engine.streamArn('read');
      const consumerArn = (await client.send(new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'compare' }))).Consumer!.ConsumerARN!;
      const read = async (native: boolean): Promise<unknown[]> => {
        const command = new SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: shardId, StartingPosition: { Type: 'TRIM_HORIZON' } });
        if (native) useNativeEventRecordData(command, () => expect.unreachable());
        const seen = native ? probeBody(command, 'kinesisKitReframeEvents') : undefined;
        const out = await client.send(command);
        const records: unknown[] = [];
        for await (const event of out.EventStream!) {
          for (const r of event.SubscribeToShardEvent?.Records ?? []) {
            expect(r.Data!.constructor).toBe(Uint8Array);
            records.push({ ...r, Data: [...(r.Data ?? [])] });
          }
          if (records.length >= expected) break;
        }
        // Proof that our path ran: the event stream the SDK read had every Data taken out.
        if (seen) expect(seen.text.match(/"Data":""/g)).toHaveLength(expected);
        return records;
      };
      const sdk = await read(false);
      await new Promise((resolve) => setTimeout(resolve, 5)); // the mock's subscribe cooldown (1 ms)
      const ours = await read(true);
      expect(sdk).toHaveLength(expected);
      expect(ours).toEqual(sdk);
      kinesis?.destroy();
      await server?.close();
      server = kinesis = undefined;
    }
  });
});
