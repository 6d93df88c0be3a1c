import { crc32 } from 'node:zlib';

/**
 * AWS event-stream message encoding (application/vnd.amazon.eventstream), as the SDK's
 * EventStreamCodec decodes it:
 *   [total length u32][headers length u32][prelude CRC32][headers][payload][message CRC32]
 * Header values here are all strings (type 7).
 */
const PRELUDE_BYTES = 12;
const CRC_BYTES = 4;
const STRING_TYPE = 7;

export function encodeEventStreamMessage(headers: Record<string, string>, payload: Uint8Array | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const headerParts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    const h = Buffer.allocUnsafe(1 + n.length + 1 + 2 + v.length);
    h.writeUInt8(n.length, 0);
    n.copy(h, 1);
    h.writeUInt8(STRING_TYPE, 1 + n.length);
    h.writeUInt16BE(v.length, 2 + n.length);
    v.copy(h, 4 + n.length);
    headerParts.push(h);
  }
  const headerBytes = headerParts.reduce((sum, h) => sum + h.length, 0);
  const total = PRELUDE_BYTES + headerBytes + body.length + CRC_BYTES;
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(headerBytes, 4);
  out.writeUInt32BE(crc32(out.subarray(0, 8)), 8);
  let offset = PRELUDE_BYTES;
  for (const h of headerParts) {
    h.copy(out, offset);
    offset += h.length;
  }
  out.set(body, offset);
  offset += body.length;
  out.writeUInt32BE(crc32(out.subarray(0, offset)), offset);
  return out;
}

export function eventMessage(eventType: string, json: string | Uint8Array): Buffer {
  return encodeEventStreamMessage({ ':message-type': 'event', ':event-type': eventType, ':content-type': 'application/json' }, json);
}

export function exceptionMessage(exceptionType: string, message: string): Buffer {
  return encodeEventStreamMessage(
    { ':message-type': 'exception', ':exception-type': exceptionType, ':content-type': 'application/json' },
    JSON.stringify({ message }),
  );
}
