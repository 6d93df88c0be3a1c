import { describe, expect, it } from 'vitest';
import { ConsumerConfigError } from '../errors.js';
import { formatLeaseKey, isStreamIdentifier, parseLeaseKey } from './lease-key.js';

describe('lease keys', () => {
  it('single-stream keys are the shard id', () => {
    expect(parseLeaseKey('shardId-000000000042')).toEqual({ leaseKey: 'shardId-000000000042', shardId: 'shardId-000000000042' });
    expect(formatLeaseKey('shardId-000000000042')).toBe('shardId-000000000042');
  });

  it('multi-stream keys are account:stream:creationEpoch:shardId and round-trip', () => {
    const key = '123456789012:my-stream.v2:1700000000:shardId-000000000007';
    expect(parseLeaseKey(key)).toEqual({
      leaseKey: key,
      shardId: 'shardId-000000000007',
      streamIdentifier: '123456789012:my-stream.v2:1700000000',
      accountId: '123456789012',
      streamName: 'my-stream.v2',
      streamCreationEpochSeconds: 1700000000,
    });
    expect(formatLeaseKey('shardId-000000000007', '123456789012:my-stream.v2:1700000000')).toBe(key);
  });

  it('keys that only look partly like multi-stream keys stay single-stream', () => {
    for (const key of ['acct:stream:1:shardId-1', '123:stream:x:shardId-1', 'shardId-1:2:3']) {
      expect(parseLeaseKey(key)).toEqual({ leaseKey: key, shardId: key });
    }
  });

  it('rejects a malformed stream identifier with a typed error', () => {
    expect(isStreamIdentifier('123:s:1')).toBe(true);
    expect(isStreamIdentifier('s:1')).toBe(false);
    expect(() => formatLeaseKey('shardId-1', 'stream')).toThrow(ConsumerConfigError);
  });
});
