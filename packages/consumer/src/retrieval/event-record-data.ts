import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import type { SubscribeToShardCommand, SubscribeToShardCommandInput, SubscribeToShardCommandOutput, SubscribeToShardEventStream } from '@aws-sdk/client-kinesis';
import {
  EVENT_STREAM_CRC_BYTES as CRC_BYTES,
  EVENT_STREAM_PRELUDE_BYTES as PRELUDE_BYTES,
  EVENT_STREAM_STRING_TYPE as STRING_TYPE,
  frameEventStreamMessage,
} from '@kinesis-kit/core';
import type { DeserializeMiddleware } from '@smithy/types';
import { putBackRecordData, recordDataMismatch, takeRecordData } from './records-response.js';

/**
 * SubscribeToShard events with each record's Data decoded here instead of by the SDK's JSON codec
 * (the same costs as in GetRecords responses, see records-response.ts). The SDK still decodes the
 * event stream itself (framing, initial-response, exceptions, errors); only the payloads of
 * SubscribeToShardEvent messages change on the way:
 * - one middleware, inside the SDK's deserializer, passes the response body through a re-framer:
 *   each SubscribeToShardEvent message whose checksum holds gets its Data values taken out of the
 *   payload (decoded natively, queued in order) and is written again with new lengths and CRCs;
 * - the next one, outside the deserializer, wraps the event iterator the SDK returns and puts the
 *   queued bytes back into each event's records, by position.
 * If an event's records do not line up with what was taken, the iterator throws a retriable error
 * and `onMismatch` tells the caller to stop: later subscriptions go through the SDK alone.
 */

const REFRAME = { name: 'kinesisKitReframeEvents', relation: 'after', toMiddleware: 'deserializerMiddleware' } as const;
const PUT_BACK = { name: 'kinesisKitPutBackEventData', relation: 'before', toMiddleware: 'deserializerMiddleware' } as const;
const EVENT_STREAM = 'application/vnd.amazon.eventstream';

type Middleware = DeserializeMiddleware<SubscribeToShardCommandInput, SubscribeToShardCommandOutput>;
/** Per SubscribeToShardEvent message, in order: its decoded Data values, or undefined when the SDK decodes that one. */
type TakenQueue = (Uint8Array[] | undefined)[];

/** Makes `command` decode its events' Data natively (see above). */
export function useNativeEventRecordData(command: SubscribeToShardCommand, onMismatch: () => void): SubscribeToShardCommand {
  let taken: TakenQueue = [];
  const reframe: Middleware = (next) => async (args) => {
    const result = await next(args);
    const response = result.response as { statusCode?: number; headers?: Record<string, string>; body?: unknown };
    if (response.statusCode !== 200 || response.headers?.['content-type'] !== EVENT_STREAM || !(response.body instanceof Readable)) return result;
    response.body = Readable.from(reframeEvents(response.body, taken), { objectMode: false });
    return result;
  };
  const putBack: Middleware = (next) => async (args) => {
    taken = [];
    const queue = taken;
    const result = await next(args);
    const output = result.output;
    if (output?.EventStream !== undefined) output.EventStream = withRecordData(output.EventStream, queue, onMismatch);
    return result;
  };
  command.middlewareStack.addRelativeTo(reframe, REFRAME);
  command.middlewareStack.addRelativeTo(putBack, PUT_BACK);
  return command;
}

/** The event stream with each SubscribeToShardEvent message re-framed (see reframeEvent); `taken` gets one entry per such message. */
export async function* reframeEvents(source: AsyncIterable<Uint8Array>, taken: TakenQueue): AsyncGenerator<Buffer> {
  // Chunks are kept as they come and joined once per message: events are up to a few MB in
  // chunks of ~16 KB, and joining on every chunk would copy each message hundreds of times.
  let chunks: Buffer[] = [];
  let buffered = 0;
  // After a length that cannot be right, everything goes on untouched: the SDK reports it at once.
  let passThrough = false;
  for await (const chunk of source) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (passThrough) {
      yield bytes;
      continue;
    }
    chunks.push(bytes);
    buffered += bytes.length;
    const out: Buffer[] = [];
    while (buffered >= PRELUDE_BYTES) {
      if (chunks[0]!.length < PRELUDE_BYTES) chunks = [Buffer.concat(chunks)];
      const total = chunks[0]!.readUInt32BE(0);
      if (total < PRELUDE_BYTES + CRC_BYTES) {
        passThrough = true;
        break;
      }
      if (buffered < total) break;
      const joined = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered);
      out.push(reframeEvent(joined.subarray(0, total), taken));
      chunks = joined.length > total ? [joined.subarray(total)] : [];
      buffered -= total;
    }
    if (passThrough) {
      out.push(...chunks);
      chunks = [];
      buffered = 0;
    }
    if (out.length > 0) yield out.length === 1 ? out[0]! : Buffer.concat(out);
  }
  // A cut-off message goes on as it came: the SDK reports it.
  if (buffered > 0) yield Buffer.concat(chunks, buffered);
}

/**
 * One message: a SubscribeToShardEvent whose message CRC holds comes back with its Data values
 * taken out of the payload (new lengths and CRCs); anything else comes back as it was.
 */
export function reframeEvent(message: Buffer, taken: TakenQueue): Buffer {
  const total = message.length;
  const headersLength = message.readUInt32BE(4);
  const payloadStart = PRELUDE_BYTES + headersLength;
  if (payloadStart > total - CRC_BYTES) return message;
  const headers = message.subarray(PRELUDE_BYTES, payloadStart);
  if (!isRecordsEvent(headers)) return message;
  // Re-framing a damaged message would give it valid CRCs: leave those to the SDK to reject.
  if (crc32(message.subarray(0, total - CRC_BYTES)) !== message.readUInt32BE(total - CRC_BYTES)) return message;
  const stripped = takeRecordData(message.subarray(payloadStart, total - CRC_BYTES));
  taken.push(stripped?.data);
  return stripped === undefined ? message : frameEventStreamMessage(headers, stripped.body);
}

/** The SDK's events with the taken Data put back into each SubscribeToShardEvent, in order. */
export async function* withRecordData(
  events: AsyncIterable<SubscribeToShardEventStream>,
  taken: TakenQueue,
  onMismatch: () => void,
): AsyncGenerator<SubscribeToShardEventStream> {
  for await (const event of events) {
    const records = event.SubscribeToShardEvent;
    if (records !== undefined) {
      if (taken.length === 0) {
        onMismatch();
        throw recordDataMismatch('the SDK gave a SubscribeToShardEvent that was not re-framed');
      }
      const data = taken.shift();
      if (data !== undefined) putBackRecordData(records, data, onMismatch);
    }
    yield event;
  }
}

/** Whether the headers say `:message-type` event and `:event-type` SubscribeToShardEvent (unknown header layouts: no). */
function isRecordsEvent(headers: Buffer): boolean {
  let messageType: string | undefined;
  let eventType: string | undefined;
  let at = 0;
  while (at < headers.length) {
    const nameLength = headers[at]!;
    const name = headers.toString('latin1', at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    const type = headers[at];
    at += 1;
    const size = valueSize(headers, at, type);
    if (size < 0) return false;
    if (type === STRING_TYPE && (name === ':message-type' || name === ':event-type')) {
      const value = headers.toString('utf8', at + 2, at + size);
      if (name === ':message-type') messageType = value;
      else eventType = value;
    }
    at += size;
  }
  return at === headers.length && messageType === 'event' && eventType === 'SubscribeToShardEvent';
}

/** Bytes of a header value of `type` at `at` (its length prefix included), or -1 for a type this does not know. */
function valueSize(headers: Buffer, at: number, type: number | undefined): number {
  switch (type) {
    case 0: // true
    case 1: // false
      return 0;
    case 2: // byte
      return 1;
    case 3: // short
      return 2;
    case 4: // integer
      return 4;
    case 5: // long
    case 8: // timestamp
      return 8;
    case 6: // bytes
    case 7: // string
      return at + 2 <= headers.length ? 2 + headers.readUInt16BE(at) : -1;
    case 9: // uuid
      return 16;
    default:
      return -1;
  }
}
