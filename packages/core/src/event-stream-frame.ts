import { crc32 } from 'node:zlib';

/**
 * AWS event-stream framing (application/vnd.amazon.eventstream), as the SDK's EventStreamCodec reads it:
 *   [total length u32][headers length u32][prelude CRC32][headers][payload][message CRC32]
 * Shared by the mock (which writes event streams) and the consumer (which re-frames them).
 */
export const EVENT_STREAM_PRELUDE_BYTES = 12;
export const EVENT_STREAM_CRC_BYTES = 4;
/** Header value type 7: a string with a u16 length. */
export const EVENT_STREAM_STRING_TYPE = 7;

/** One message around already-encoded header bytes and a payload, with both CRCs. */
export function frameEventStreamMessage(headers: Uint8Array, payload: Uint8Array): Buffer {
  const total = EVENT_STREAM_PRELUDE_BYTES + headers.length + payload.length + EVENT_STREAM_CRC_BYTES;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headers.length, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  out.set(headers, EVENT_STREAM_PRELUDE_BYTES);
  out.set(payload, EVENT_STREAM_PRELUDE_BYTES + headers.length);
  out.writeUInt32BE(crc32(out.subarray(0, total - EVENT_STREAM_CRC_BYTES)), total - EVENT_STREAM_CRC_BYTES);
  return out;
}
