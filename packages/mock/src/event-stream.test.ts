import { EventStreamCodec } from '@smithy/core/event-streams';
import { describe, expect, it } from 'vitest';
import { encodeEventStreamMessage, eventMessage, exceptionMessage } from './event-stream.js';

const codec = new EventStreamCodec(
  (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8'),
  (text: string) => Buffer.from(text, 'utf8'),
);

describe('event-stream encoding', () => {
  it('is decoded by the SDK codec, CRCs included', () => {
    const msg = codec.decode(eventMessage('SubscribeToShardEvent', '{"Records":[]}'));
    expect(msg.headers[':message-type']).toEqual({ type: 'string', value: 'event' });
    expect(msg.headers[':event-type']).toEqual({ type: 'string', value: 'SubscribeToShardEvent' });
    expect(Buffer.from(msg.body).toString()).toBe('{"Records":[]}');
    const ex = codec.decode(exceptionMessage('ResourceInUseException', 'busy'));
    expect(ex.headers[':exception-type']?.value).toBe('ResourceInUseException');
    expect(JSON.parse(Buffer.from(ex.body).toString())).toEqual({ message: 'busy' });
  });

  it('is rejected by the codec when a byte is flipped', () => {
    const frame = encodeEventStreamMessage({ a: 'b' }, 'payload');
    const broken = Buffer.from(frame);
    broken[broken.length - 6]! ^= 1;
    expect(() => codec.decode(broken)).toThrow();
  });
});
