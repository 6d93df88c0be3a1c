import { describe, expect, it } from 'vitest';
import { isKinesisName, isStreamArn, isStreamConsumerArn, parseStreamConsumerArn, streamNameOfArn } from './stream-names.js';

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/orders';

describe('stream names and ARNs', () => {
  it('accepts names of 1..128 allowed characters', () => {
    expect(isKinesisName('orders_v2.eu-1')).toBe(true);
    expect(isKinesisName('x'.repeat(128))).toBe(true);
    for (const bad of ['', 'x'.repeat(129), 'a b', 'a/b', 'ünïcode', 42, undefined]) expect(isKinesisName(bad)).toBe(false);
  });

  it('accepts stream ARNs of every partition and rejects other resources', () => {
    expect(isStreamArn(STREAM_ARN)).toBe(true);
    expect(isStreamArn('arn:aws-cn:kinesis:cn-north-1:123456789012:stream/orders')).toBe(true);
    expect(isStreamArn('arn:aws-us-gov:kinesis:us-gov-west-1:000000000000:stream/orders')).toBe(true);
    for (const bad of [
      'orders',
      'arn:aws:s3:::bucket',
      'arn:aws:kinesis:us-east-1:123:stream/orders', // account is 12 digits
      'arn:aws:kinesis::123456789012:stream/orders', // region is required
      `${STREAM_ARN}/consumer/app:1`,
      'arn:aws:kinesis:us-east-1:123456789012:stream/',
      null,
    ]) {
      expect(isStreamArn(bad)).toBe(false);
    }
  });

  it('accepts consumer ARNs only with a name and a creation timestamp', () => {
    expect(isStreamConsumerArn(`${STREAM_ARN}/consumer/app:1700000000`)).toBe(true);
    expect(isStreamConsumerArn(`${STREAM_ARN}/consumer/app`)).toBe(false);
    expect(isStreamConsumerArn(STREAM_ARN)).toBe(false);
  });

  it('takes a consumer ARN apart: stream ARN, consumer name, registration time', () => {
    expect(parseStreamConsumerArn(`${STREAM_ARN}/consumer/app.v2:1700000000`)).toEqual({
      streamArn: STREAM_ARN,
      consumerName: 'app.v2',
      createdAtSeconds: 1_700_000_000,
    });
    for (const bad of [STREAM_ARN, `${STREAM_ARN}/consumer/app`, `${STREAM_ARN}/consumer/a/b:1`, `${STREAM_ARN}/consumer/app:1x`]) {
      expect(parseStreamConsumerArn(bad)).toBeUndefined();
    }
  });

  it('takes the stream name out of an ARN', () => {
    expect(streamNameOfArn(STREAM_ARN)).toBe('orders');
  });
});
