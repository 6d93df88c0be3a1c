import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, PER_CALL_CAPS, resolveLimits } from './limits.js';
import { DEFAULTS, resolveMockServerOptions } from './options.js';

describe('options', () => {
  it('fills in the defaults', () => {
    const o = resolveMockServerOptions();
    expect(o).toMatchObject({ port: 0, host: '127.0.0.1', subscriptionDurationMs: 300_000, subscribeCooldownMs: 5_000, dynamodb: true, region: 'us-east-1' });
    expect(o.limits).toEqual(DEFAULT_LIMITS);
    expect(o.credentials).toEqual({ accessKeyId: DEFAULTS.accessKeyId, secretAccessKey: DEFAULTS.secretAccessKey });
  });

  it('merges limits; false lifts the rates and quotas and keeps the per-call caps', () => {
    expect(resolveLimits({ shardLimit: 10 }).shardLimit).toBe(10);
    expect(resolveLimits({ shardLimit: 10 }).shardWriteRecordsPerSecond).toBe(1000);
    const off = resolveLimits(false);
    for (const [k, v] of Object.entries(off)) {
      const kept = k === 'burstSeconds' || (PER_CALL_CAPS as readonly string[]).includes(k);
      expect(v, k).toBe(kept ? DEFAULT_LIMITS[k as keyof typeof DEFAULT_LIMITS] : Infinity);
    }
    expect(off).toMatchObject({ getRecordsMaxBytes: 10 * 1024 * 1024, putRecordsMaxBytes: 5 * 1024 * 1024, maxRecordSizeBytes: 1024 * 1024 });
    expect(() => resolveLimits({ nope: 1 } as never)).toThrow(/limits.nope/);
  });

  it('names the bad field', () => {
    expect(() => resolveMockServerOptions({ subscriptionDurationMs: 0 })).toThrow(expect.objectContaining({ field: 'subscriptionDurationMs' }));
    expect(() => resolveMockServerOptions({ streams: [{ name: 'a', shardCount: 1 }, { name: 'a', shardCount: 1 }] })).toThrow(/duplicate/);
    expect(() => resolveMockServerOptions({ accountId: '12' })).toThrow(expect.objectContaining({ field: 'accountId' }));
  });
});
