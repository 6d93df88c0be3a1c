import { EVENT_STREAM_STRING_TYPE, frameEventStreamMessage } from '@kinesis-kit/core';

/**
 * AWS event-stream messages (application/vnd.amazon.eventstream) with string headers (type 7),
 * framed by core's frameEventStreamMessage.
 */
export function encodeEventStreamMessage(headers: Record<string, string>, payload: Uint8Array | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const headerParts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name, 'utf8');
    const v = Buffer.from(value, 'utf8');
    const h = Buffer.allocUnsafe(1 + n.length + 1 + 2 + v.length);
    h.writeUInt8(n.length, 0);
    n.copy(h, 1);
    h.writeUInt8(EVENT_STREAM_STRING_TYPE, 1 + n.length);
    h.writeUInt16BE(v.length, 2 + n.length);
    v.copy(h, 4 + n.length);
    headerParts.push(h);
  }
  return frameEventStreamMessage(Buffer.concat(headerParts), body);
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
