import { crc32 } from 'node:zlib';
import type { SubscribeToShardEventStream } from '@aws-sdk/client-kinesis';
import { classifyAwsError } from '@kinesis-kit/core';
import { encodeEventStreamMessage } from '@kinesis-kit/mock';
import { describe, expect, it } from 'vitest';
import { reframeEvent, reframeEvents, withRecordData } from './event-record-data.js';

const EVENT_HEADERS = { ':message-type': 'event', ':event-type': 'SubscribeToShardEvent', ':content-type': 'application/json' };
const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);

function eventPayload(datas: Uint8Array[]): string {
  return JSON.stringify({
    Records: datas.map((d, i) => ({ SequenceNumber: `4959${i}`, ApproximateArrivalTimestamp: 1764450000.5, Data: Buffer.from(d).toString('base64'), PartitionKey: `"Data":"k${i}"` })),
    ContinuationSequenceNumber: '49591',
    MillisBehindLatest: 0,
  });
}

function stripped(payload: string): string {
  const parsed = JSON.parse(payload) as { Records: { Data: string }[] };
  for (const r of parsed.Records) r.Data = '';
  return JSON.stringify(parsed);
}

/** A message with raw header bytes (to try header value types other than strings). */
function rawMessage(headers: Buffer, payload: string): Buffer {
  const body = Buffer.from(payload);
  const total = 12 + headers.length + body.length + 4;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headers.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  headers.copy(out, 12);
  body.copy(out, 12 + headers.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - 4)), total - 4);
  return out;
}

function stringHeader(name: string, value: string): Buffer {
  const v = Buffer.from(value);
  return Buffer.concat([Buffer.of(name.length), Buffer.from(name), Buffer.of(7), Buffer.from([v.length >> 8, v.length & 0xff]), v]);
}

describe('reframeEvent', () => {
  it('takes the Data out of a SubscribeToShardEvent and writes the message again, byte for byte as an encoder would', () => {
    const datas = [allBytes, new Uint8Array(0), Uint8Array.of(1, 2), new Uint8Array(70_000).fill(9)];
    const payload = eventPayload(datas);
    const taken: (Uint8Array[] | undefined)[] = [];
    const out = reframeEvent(encodeEventStreamMessage(EVENT_HEADERS, payload), taken);
    expect(out.equals(encodeEventStreamMessage(EVENT_HEADERS, stripped(payload)))).toBe(true);
    expect(taken).toHaveLength(1);
    expect(taken[0]!.map((d) => [...d])).toEqual(datas.map((d) => [...d]));
  });

  it('reads past header values of every type to find the event type', () => {
    const others = Buffer.concat([
      Buffer.from([4, ...Buffer.from('flag'), 0]), // true
      Buffer.from([3, ...Buffer.from('int'), 4, 0, 0, 0, 7]),
      Buffer.from([2, ...Buffer.from('ts'), 8, 0, 0, 0, 0, 0, 0, 0, 1]),
      Buffer.from([4, ...Buffer.from('uuid'), 9, ...new Uint8Array(16)]),
      Buffer.from([5, ...Buffer.from('bytes'), 6, 0, 2, 0xff, 0xfe]),
    ]);
    const headers = Buffer.concat([others, stringHeader(':message-type', 'event'), stringHeader(':event-type', 'SubscribeToShardEvent')]);
    const taken: (Uint8Array[] | undefined)[] = [];
    const payload = eventPayload([Uint8Array.of(1, 2, 3)]);
    expect(reframeEvent(rawMessage(headers, payload), taken).equals(rawMessage(headers, stripped(payload)))).toBe(true);
    expect(taken).toHaveLength(1);
  });

  it('leaves every other message as it was: initial-response, exceptions, unknown header types, a damaged checksum', () => {
    const taken: (Uint8Array[] | undefined)[] = [];
    const payload = eventPayload([allBytes]);
    const initial = encodeEventStreamMessage({ ':message-type': 'event', ':event-type': 'initial-response', ':content-type': 'application/json' }, '{}');
    const exception = encodeEventStreamMessage({ ':message-type': 'exception', ':exception-type': 'ResourceInUseException' }, '{"message":"in use"}');
    const unknownType = rawMessage(Buffer.concat([Buffer.from([1, 0x78, 42]), stringHeader(':event-type', 'SubscribeToShardEvent')]), payload);
    const damaged = encodeEventStreamMessage(EVENT_HEADERS, payload);
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 10) ^ 1, damaged.length - 10);
    for (const message of [initial, exception, unknownType, damaged]) expect(reframeEvent(message, taken)).toBe(message);
    expect(taken).toEqual([]);
    // An event whose Data is not plain base64 is left to the SDK, and says so in the queue.
    const escaped = encodeEventStreamMessage(EVENT_HEADERS, '{"Records":[{"Data":"AQ\\/D","PartitionKey":"k","SequenceNumber":"1"}]}');
    expect(reframeEvent(escaped, taken)).toBe(escaped);
    expect(taken).toEqual([undefined]);
  });
});

async function* asStream(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield await Promise.resolve(chunk);
}

describe('reframeEvents', () => {
  it('re-frames messages however the stream cuts them, and passes a cut-off tail on as it came', async () => {
    const payloads = [eventPayload([allBytes, Uint8Array.of(5)]), eventPayload([new Uint8Array(40_000).fill(3)]), eventPayload([])];
    const messages = [
      encodeEventStreamMessage({ ':message-type': 'event', ':event-type': 'initial-response' }, '{}'),
      ...payloads.map((p) => encodeEventStreamMessage(EVENT_HEADERS, p)),
    ];
    const tail = encodeEventStreamMessage(EVENT_HEADERS, payloads[0]!).subarray(0, 30);
    const stream = Buffer.concat([...messages, tail]);
    const expected = Buffer.concat([messages[0]!, ...payloads.map((p, i) => (i === 2 ? messages[3]! : encodeEventStreamMessage(EVENT_HEADERS, stripped(p)))), tail]);
    for (const size of [1, 5, 13, 4096, 16_384, stream.length]) {
      const taken: (Uint8Array[] | undefined)[] = [];
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length; at += size) chunks.push(stream.subarray(at, at + size));
      const out: Buffer[] = [];
      for await (const part of reframeEvents(asStream(chunks), taken)) out.push(part);
      expect(Buffer.concat(out).equals(expected)).toBe(true);
      expect(taken.map((t) => t?.length)).toEqual([2, 1, undefined]);
    }
  });
  it('passes everything on untouched from a message length that cannot be right, without waiting for the end', async () => {
    const good = encodeEventStreamMessage(EVENT_HEADERS, eventPayload([Uint8Array.of(1)]));
    const bad = Buffer.alloc(16); // a prelude saying 0 bytes
    const after = encodeEventStreamMessage(EVENT_HEADERS, eventPayload([Uint8Array.of(2)]));
    const taken: (Uint8Array[] | undefined)[] = [];
    const parts: Buffer[] = [];
    const reframed = reframeEvents(asStream([good, bad, after]), taken);
    for (let i = 0; i < 2; i++) parts.push((await reframed.next()).value as Buffer);
    // The bad bytes come out with the chunk that brought them, before the stream ends.
    expect(parts[1]!.equals(bad)).toBe(true);
    parts.push((await reframed.next()).value as Buffer);
    expect(parts[2]!.equals(after)).toBe(true);
    expect((await reframed.next()).done).toBe(true);
    expect(taken).toHaveLength(1);
  });
});

describe('withRecordData', () => {
  async function* events(...list: SubscribeToShardEventStream[]): AsyncGenerator<SubscribeToShardEventStream> {
    for (const e of list) yield e;
  }
  const recordsEvent = (n: number): SubscribeToShardEventStream =>
    ({
      SubscribeToShardEvent: { Records: Array.from({ length: n }, (_, i) => ({ Data: new Uint8Array(0), PartitionKey: 'k', SequenceNumber: `${i}` })), ContinuationSequenceNumber: '1', MillisBehindLatest: 0 },
    });

  it('puts the Data back into each event in order; events the SDK decoded itself are left alone', async () => {
    const out: SubscribeToShardEventStream[] = [];
    const taken = [[Buffer.from('a')], undefined, [Buffer.from('b'), Buffer.from('c')]];
    for await (const e of withRecordData(events(recordsEvent(1), recordsEvent(0), recordsEvent(2)), taken, () => expect.unreachable())) out.push(e);
    expect(out.map((e) => e.SubscribeToShardEvent!.Records!.map((r) => Buffer.from(r.Data!).toString()))).toEqual([['a'], [], ['b', 'c']]);
  });

  it('throws a retriable error and reports the mismatch when an event does not line up', async () => {
    for (const taken of [[], [[Buffer.from('a'), Buffer.from('b')]]]) {
      let mismatches = 0;
      const reading = (async () => {
        for await (const _ of withRecordData(events(recordsEvent(1)), taken, () => void mismatches++)) void _;
      })();
      const err: unknown = await reading.then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'RECORD_DATA_MISMATCH' });
      expect(classifyAwsError(err).retriable).toBe(true);
      expect(mismatches).toBe(1);
    }
  });
});
