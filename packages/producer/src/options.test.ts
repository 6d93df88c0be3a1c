import { describe, expect, it } from 'vitest';
import { ProducerConfigError } from './errors.js';
import { containerMaxSize, DEFAULTS, resolveProducerOptions } from './options.js';

const base = { streamName: 's', region: 'us-east-1' };

describe('resolveProducerOptions', () => {
  it('fills in the KPL defaults', () => {
    const o = resolveProducerOptions(base);
    expect(o).toMatchObject({
      aggregationEnabled: true,
      aggregationMaxCount: 4294967295,
      aggregationMaxSize: 51200,
      collectionMaxCount: 500,
      collectionMaxSize: 5242880,
      recordMaxBufferedTime: 100,
      recordTtl: 30000,
      maxConnections: 24,
      requestTimeout: 6000,
      rateLimit: 150,
      failIfThrottled: false,
      strictOrdering: false,
      backPressure: 'wait',
    });
    expect(o.maxOutstandingRecords).toBe(DEFAULTS.maxOutstandingRecords);
    expect(o.streamLabel).toBe('s');
  });

  it('accepts Infinity and huge values for recordTtl', () => {
    expect(resolveProducerOptions({ ...base, recordTtl: Infinity }).recordTtl).toBe(Infinity);
    expect(resolveProducerOptions({ ...base, recordTtl: 2 ** 63 }).recordTtl).toBe(2 ** 63);
  });

  it('takes the label from a stream ARN', () => {
    expect(resolveProducerOptions({ streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/orders', region: 'us-east-1' }).streamLabel).toBe('orders');
  });

  it.each([
    [{ region: 'us-east-1' }, 'streamName'],
    [{ ...base, streamName: 'bad name' }, 'streamName'],
    [{ streamArn: 'nope', region: 'us-east-1' }, 'streamArn'],
    [{ ...base, aggregationMaxSize: 63 }, 'aggregationMaxSize'],
    [{ ...base, aggregationMaxCount: 0 }, 'aggregationMaxCount'],
    [{ ...base, aggregationMaxCount: 5e9 }, 'aggregationMaxCount'],
    [{ ...base, collectionMaxCount: 501 }, 'collectionMaxCount'],
    [{ ...base, collectionMaxSize: 1000 }, 'collectionMaxSize'],
    [{ ...base, recordTtl: 99 }, 'recordTtl'],
    [{ ...base, recordTtl: NaN }, 'recordTtl'],
    [{ ...base, recordMaxBufferedTime: -1 }, 'recordMaxBufferedTime'],
    [{ ...base, maxConnections: 0 }, 'maxConnections'],
    [{ ...base, maxConnections: 1.5 }, 'maxConnections'],
    [{ ...base, requestTimeout: 50 }, 'requestTimeout'],
    [{ ...base, rateLimit: 0 }, 'rateLimit'],
    [{ ...base, maxOutstandingRecords: 0 }, 'maxOutstandingRecords'],
    [{ ...base, backPressure: 'drop' }, 'backPressure'],
    [{ ...base, metricsLevel: 'loud' }, 'metricsLevel'],
    [{ ...base, aggregationEnabled: 'yes' }, 'aggregationEnabled'],
    [{ ...base, retryBaseDelay: 100, retryMaxDelay: 10 }, 'retryMaxDelay'],
  ])('rejects %j naming %s', (options, field) => {
    let err: unknown;
    try {
      resolveProducerOptions(options as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProducerConfigError);
    expect(err).toMatchObject({ field, code: 'INVALID_CONFIG', retriable: false });
  });
});

describe('containerMaxSize', () => {
  const MiB = 1024 * 1024;
  it.each([
    [51200, MiB, 51200],
    [MiB, MiB, MiB - 1], // the container's key "a" counts towards the backend's 1 MiB
    [10 * MiB, MiB, MiB - 1],
    [10 * MiB, 1024, MiB - 1], // a small maxUserRecordSize does not shrink containers
    [10 * MiB, 4 * MiB, 4 * MiB - 1], // a stream whose MaxRecordSizeInKiB was raised
    [2 * MiB, 10 * MiB, 2 * MiB],
  ])('aggregationMaxSize %i with maxUserRecordSize %i: containers of at most %i bytes', (aggregationMaxSize, maxUserRecordSize, expected) => {
    expect(containerMaxSize({ aggregationMaxSize, maxUserRecordSize })).toBe(expected);
  });
});
