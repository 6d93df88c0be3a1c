import { ManualClock } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { FaultInjector, NO_FAULT } from './faults.js';

describe('FaultInjector', () => {
  it('does nothing without rules', () => {
    expect(new FaultInjector(new ManualClock(), undefined).decide('kinesis', 'PutRecords')).toBe(NO_FAULT);
  });

  it('matches by service and operation and combines matching rules', () => {
    const f = new FaultInjector(new ManualClock(), {
      rules: [{ latencyMs: 5 }, { operation: 'GetRecords', latencyMs: 7, errorRate: 1, errorCode: 'ExpiredIteratorException' }, { service: 'dynamodb', latencyMs: 100 }],
    });
    const get = f.decide('kinesis', 'GetRecords');
    expect(get.latencyMs).toBe(12);
    expect(get.error).toMatchObject({ awsName: 'ExpiredIteratorException', statusCode: 400 });
    expect(f.decide('kinesis', 'ListShards')).toMatchObject({ latencyMs: 5, error: undefined });
    expect(f.decide('dynamodb', 'GetItem').latencyMs).toBe(100);
  });

  it('is reproducible from the seed and reseeds on set()', () => {
    const rolls = (seed: number) => {
      const f = new FaultInjector(new ManualClock(), { seed, rules: [{ errorRate: 0.5 }] });
      return Array.from({ length: 64 }, () => (f.decide('kinesis', 'ListStreams').error ? 1 : 0)).join('');
    };
    expect(rolls(3)).toBe(rolls(3));
    expect(rolls(3)).not.toBe(rolls(4));
    const f = new FaultInjector(new ManualClock(), { seed: 3, rules: [{ errorRate: 0.5 }] });
    const first = Array.from({ length: 64 }, () => (f.decide('kinesis', 'ListStreams').error ? 1 : 0)).join('');
    f.set({ seed: 3, rules: [{ errorRate: 0.5 }] });
    expect(Array.from({ length: 64 }, () => (f.decide('kinesis', 'ListStreams').error ? 1 : 0)).join('')).toBe(first);
  });

  it('honours maxCount and time windows on its clock', async () => {
    const clock = new ManualClock();
    const f = new FaultInjector(clock, { rules: [{ errorRate: 1, maxCount: 1 }, { operation: 'PutRecord', throttleRate: 1, afterMs: 100, durationMs: 50 }] });
    expect(f.decide('kinesis', 'ListStreams').error).toBeDefined();
    expect(f.decide('kinesis', 'ListStreams').error).toBeUndefined();
    expect(f.decide('kinesis', 'PutRecord').error).toBeUndefined();
    await clock.advance(100);
    expect(f.decide('kinesis', 'PutRecord').error?.awsName).toBe('ProvisionedThroughputExceededException');
    await clock.advance(50);
    expect(f.decide('kinesis', 'PutRecord').error).toBeUndefined();
  });

  it('throttles PutRecords per entry and other control-plane calls with LimitExceeded', () => {
    const f = new FaultInjector(new ManualClock(), { rules: [{ throttleRate: 1 }] });
    const put = f.decide('kinesis', 'PutRecords');
    expect(put.error).toBeUndefined();
    expect(put.throttleEntry?.()).toBe(true);
    expect(f.decide('kinesis', 'DescribeStream').error?.awsName).toBe('LimitExceededException');
  });

  it('rejects out-of-range values', () => {
    expect(() => new FaultInjector(new ManualClock(), { rules: [{ dropConnectionRate: -0.1 }] })).toThrow(/dropConnectionRate/);
    expect(() => new FaultInjector(new ManualClock(), { rules: [{ statusCode: 200 }] })).toThrow(/statusCode/);
  });
});
