import type { UserRecord } from '@kinesis-kit/aggregation';
import { AbortError, ManualClock } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { ConsumerConfigError, LeaseLostError } from '../errors.js';
import { deliverBatch, PartialBatchFailureError, type BatchDeliveryContext, type ProcessingErrorInfo, type RecordsSkippedInfo } from './batch-delivery.js';
import { FAILURE_POLICY_DEFAULTS, resolveFailurePolicy, type FailurePolicyOptions, type ProcessingFailure } from './failure-policy.js';
import type { ProcessRecordsResult } from './processor.js';

function rec(seq: string, sub = 0, arrival?: Date): UserRecord {
  return {
    partitionKey: 'k',
    data: new Uint8Array([1, 2, 3]),
    sequenceNumber: seq,
    subSequenceNumber: sub,
    aggregated: sub > 0,
    ...(arrival ? { approximateArrivalTimestamp: arrival } : {}),
  };
}

function batch(n: number, arrival?: Date): UserRecord[] {
  return Array.from({ length: n }, (_, i) => rec(String(100 + i), 0, arrival));
}

type Invoke = (records: UserRecord[], attempt: number) => Promise<ProcessRecordsResult | void>;

/** A delivery context recording every callback; `invoke` is the processor. */
function harness(invoke: Invoke, policy: FailurePolicyOptions = {}) {
  const clock = new ManualClock();
  const controller = new AbortController();
  const calls: { records: UserRecord[]; attempt: number }[] = [];
  const errors: ProcessingErrorInfo[] = [];
  const skipped: RecordsSkippedInfo[] = [];
  const failures: ProcessingFailure[] = [];
  const hookErrors: unknown[] = [];
  const finished: string[] = [];
  const ctx: BatchDeliveryContext = {
    shardId: 'shardId-1',
    policy: resolveFailurePolicy({
      ...policy,
      onFailure: async (failure) => {
        failures.push(failure);
        await policy.onFailure?.(failure);
      },
    }),
    clock,
    random: () => 0.5,
    signal: controller.signal,
    invoke: async (records, attempt) => {
      calls.push({ records, attempt });
      return invoke(records, attempt);
    },
    onError: (info) => errors.push(info),
    onSkipped: (info) => skipped.push(info),
    onFinished: (record) => finished.push(`${record.sequenceNumber}/${record.subSequenceNumber}`),
    onFailureHookFailed: (err) => hookErrors.push(err),
  };
  return { clock, controller, ctx, calls, errors, skipped, failures, hookErrors, finished };
}

/** Fires the manual clock's timers until the delivery settles (fails instead of hanging). */
async function drive<T>(promise: Promise<T>, clock: ManualClock): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 1_000 && !settled; i++) await clock.runAll();
  if (!settled) throw new Error('delivery did not settle');
  return promise;
}

const ok: Invoke = async () => undefined;
const boom = (): Invoke => async () => {
  throw new Error('boom');
};
/** Fails the first `n` deliveries with `fail`, then succeeds. */
function failing(n: number, fail: (records: UserRecord[]) => Promise<ProcessRecordsResult | void> = () => Promise.reject(new Error('boom'))): Invoke {
  let left = n;
  return async (records) => (left-- > 0 ? fail(records) : undefined);
}
const seqs = (records: UserRecord[]): string[] => records.map((r) => `${r.sequenceNumber}/${r.subSequenceNumber}`);

describe('deliverBatch', () => {
  it('delivers once and resolves done when processing succeeds', async () => {
    const h = harness(ok);
    const records = batch(3);
    expect(await deliverBatch(records, h.ctx)).toBe('done');
    expect(h.calls).toEqual([{ records, attempt: 0 }]);
    expect(h.errors).toEqual([]);
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('retries the same records after a throw, with backoff, attempt numbers 0 then 1', async () => {
    const h = harness(failing(1));
    const records = batch(3);
    const outcome = deliverBatch(records, h.ctx);
    await h.clock.advance(0);
    expect(h.calls).toHaveLength(1);
    // Default base 500 ms, equal jitter at 0.5: 375 ms.
    expect(h.errors).toEqual([{ shardId: 'shardId-1', error: new Error('boom'), attempt: 1, records: 3, willRetry: true, retryInMillis: 375 }]);
    await h.clock.advance(374);
    expect(h.calls).toHaveLength(1);
    await h.clock.advance(1);
    expect(await outcome).toBe('done');
    expect(h.calls.map((c) => c.attempt)).toEqual([0, 1]);
    expect(h.calls[1]!.records).toEqual(records);
    expect(h.failures).toEqual([]);
    expect(h.skipped).toEqual([]);
  });

  it('the backoff grows with each failed delivery up to retryMaxDelayMillis', async () => {
    const h = harness(failing(5), { retryBaseDelayMillis: 100, retryMaxDelayMillis: 500 });
    expect(await drive(deliverBatch(batch(1), h.ctx), h.clock)).toBe('done');
    expect(h.errors.map((e) => e.retryInMillis)).toEqual([75, 150, 300, 375, 375]);
    expect(h.calls.map((c) => c.attempt)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('batchItemFailures: the records before the first failed one are not delivered again', async () => {
    const records = batch(5);
    const h = harness(failing(1, async () => ({ batchItemFailures: [{ sequenceNumber: '102' }] })));
    expect(await drive(deliverBatch(records, h.ctx), h.clock)).toBe('done');
    expect(h.calls.map((c) => [seqs(c.records), c.attempt])).toEqual([
      [seqs(records), 0],
      [['102/0', '103/0', '104/0'], 1],
    ]);
    expect(h.errors).toHaveLength(1);
    expect(h.errors[0]).toMatchObject({ records: 3, willRetry: true });
    expect(h.errors[0]!.error).toBeInstanceOf(PartialBatchFailureError);
  });

  it('batchItemFailures: the earliest listed record counts, and sub-sequence numbers are honoured', async () => {
    const records = [rec('500', 0), rec('500', 1), rec('500', 2), rec('500', 3), rec('600')];
    const h = harness(
      failing(1, async () => ({
        batchItemFailures: [
          { sequenceNumber: '600' },
          { sequenceNumber: '500', subSequenceNumber: 2 },
        ],
      })),
    );
    await drive(deliverBatch(records, h.ctx), h.clock);
    expect(seqs(h.calls[1]!.records)).toEqual(['500/2', '500/3', '600/0']);
  });

  it('batchItemFailures naming no delivered record redeliver everything; an empty list is success', async () => {
    const records = batch(3);
    const unknown = harness(failing(1, async () => ({ batchItemFailures: [{ sequenceNumber: '999' }] })));
    await drive(deliverBatch(records, unknown.ctx), unknown.clock);
    expect(seqs(unknown.calls[1]!.records)).toEqual(seqs(records));

    const empty = harness(async () => ({ batchItemFailures: [] }));
    expect(await deliverBatch(records, empty.ctx)).toBe('done');
    expect(empty.calls).toHaveLength(1);
    expect(empty.errors).toEqual([]);
  });

  it('a thrown error carrying batchItemFailures is a partial failure', async () => {
    const records = batch(5);
    const error = Object.assign(new Error('record 103 failed'), { batchItemFailures: [{ sequenceNumber: '103', subSequenceNumber: 0 }] });
    const h = harness(failing(1, () => Promise.reject(error)));
    await drive(deliverBatch(records, h.ctx), h.clock);
    expect(seqs(h.calls[1]!.records)).toEqual(['103/0', '104/0']);
    expect(h.errors[0]).toMatchObject({ error, attempt: 1, records: 2 });
  });

  it('maxRetries exhausted: onFailure gets the records and the reason, then they are skipped', async () => {
    const records = batch(4);
    const h = harness(boom(), { maxRetries: 2 });
    expect(await drive(deliverBatch(records, h.ctx), h.clock)).toBe('done');
    expect(h.calls.map((c) => c.attempt)).toEqual([0, 1, 2]);
    expect(h.failures).toEqual([{ shardId: 'shardId-1', records, error: new Error('boom'), attempts: 3, reason: 'max-retries' }]);
    expect(h.skipped).toEqual([
      { shardId: 'shardId-1', records: 4, reason: 'max-retries', error: new Error('boom'), firstSequenceNumber: '100', lastSequenceNumber: '103' },
    ]);
    expect(h.errors.map((e) => e.willRetry)).toEqual([true, true, false]);
  });

  it('maxRetries 0 gives up after the first failed delivery, without waiting', async () => {
    const h = harness(boom(), { maxRetries: 0 });
    expect(await deliverBatch(batch(2), h.ctx)).toBe('done');
    expect(h.calls).toHaveLength(1);
    expect(h.failures).toHaveLength(1);
    expect(h.skipped).toHaveLength(1);
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('a partial failure that runs out of retries skips only the failed records', async () => {
    const records = batch(5);
    const h = harness(async (part) => ({ batchItemFailures: [{ sequenceNumber: part.at(-2)!.sequenceNumber }] }), { maxRetries: 1 });
    expect(await drive(deliverBatch(records, h.ctx), h.clock)).toBe('done');
    // 100..104 fails from 103; 103..104 fails from 103 again: given up.
    expect(h.calls.map((c) => seqs(c.records))).toEqual([seqs(records), ['103/0', '104/0']]);
    expect(h.failures[0]!.records.map((r) => r.sequenceNumber)).toEqual(['103', '104']);
    expect(h.skipped[0]).toMatchObject({ records: 2, firstSequenceNumber: '103', lastSequenceNumber: '104' });
  });

  it('if onFailure throws, the records are not skipped but retried', async () => {
    let onFailureCalls = 0;
    const hookError = new Error('DLQ down');
    // Fails twice (give-up point with maxRetries 1), then succeeds on the retry after the hook failed.
    const h = harness(failing(2), {
      maxRetries: 1,
      onFailure: () => {
        onFailureCalls += 1;
        throw hookError;
      },
    });
    expect(await drive(deliverBatch(batch(2), h.ctx), h.clock)).toBe('done');
    expect(onFailureCalls).toBe(1);
    expect(h.hookErrors).toEqual([hookError]);
    expect(h.skipped).toEqual([]);
    expect(h.calls.map((c) => c.attempt)).toEqual([0, 1, 2]);
    expect(h.errors.every((e) => e.willRetry)).toBe(true);
  });

  it('if onFailure throws, it is called again at the next give-up and the records are skipped once it succeeds', async () => {
    let onFailureCalls = 0;
    const h = harness(boom(), {
      maxRetries: 1,
      onFailure: () => {
        onFailureCalls += 1;
        if (onFailureCalls === 1) throw new Error('DLQ down');
      },
    });
    expect(await drive(deliverBatch(batch(2), h.ctx), h.clock)).toBe('done');
    expect(h.calls).toHaveLength(3);
    expect(onFailureCalls).toBe(2);
    expect(h.hookErrors).toHaveLength(1);
    expect(h.skipped).toHaveLength(1);
  });

  it('maxRecordAgeMillis: records older than the limit (by arrival time and the clock) are given up instead of retried', async () => {
    const h = harness(boom(), { maxRecordAgeMillis: 5_000 });
    const old = batch(2, new Date(h.clock.now() - 10_000));
    expect(await deliverBatch(old, h.ctx)).toBe('done');
    expect(h.calls).toHaveLength(1);
    expect(h.failures).toMatchObject([{ reason: 'max-record-age', attempts: 1, records: old }]);
    expect(h.skipped).toMatchObject([{ reason: 'max-record-age', records: 2 }]);
  });

  it('maxRecordAgeMillis: retries while the records are young enough, gives up once they are too old', async () => {
    const h = harness(boom(), { maxRecordAgeMillis: 5_000, retryBaseDelayMillis: 1_000, retryMaxDelayMillis: 1_000 });
    // Arrived 1 s ago; each retry waits 750 ms: failures at ages 1000, 1750, ..., 4750, then 5500 > 5000.
    const records = batch(3, new Date(h.clock.now() - 1_000));
    expect(await drive(deliverBatch(records, h.ctx), h.clock)).toBe('done');
    expect(h.calls).toHaveLength(7);
    expect(h.failures).toMatchObject([{ reason: 'max-record-age', attempts: 7 }]);
  });

  it('records without an arrival time are never too old', async () => {
    const h = harness(failing(3), { maxRecordAgeMillis: 1 });
    expect(await drive(deliverBatch(batch(2), h.ctx), h.clock)).toBe('done');
    expect(h.calls).toHaveLength(4);
    expect(h.failures).toEqual([]);
  });

  it('bisectOnError isolates one bad record among 8: the good ones are processed, the bad one goes to onFailure', async () => {
    const records = batch(8);
    const bad = records[5]!;
    const processed: string[] = [];
    const h = harness(
      async (part) => {
        if (part.includes(bad)) throw new Error('poison');
        processed.push(...part.map((r) => r.sequenceNumber));
      },
      { bisectOnError: true, maxRetries: 1 },
    );
    expect(await drive(deliverBatch(records, h.ctx), h.clock)).toBe('done');
    expect(processed).toEqual(['100', '101', '102', '103', '104', '106', '107']);
    // Splits down to the bad record, which then gets its own retry (maxRetries 1) before it is given up.
    expect(h.calls.map((c) => c.records.length)).toEqual([8, 4, 4, 2, 1, 1, 1, 2]);
    expect(h.failures).toHaveLength(1);
    expect(h.failures[0]).toMatchObject({ records: [bad], reason: 'max-retries', error: new Error('poison') });
    // Every failed delivery that held the record counts (8, 4, 2, then 1 record twice).
    expect(h.failures[0]!.attempts).toBe(5);
    expect(h.skipped).toMatchObject([{ records: 1, firstSequenceNumber: '105', lastSequenceNumber: '105' }]);
  });

  it('bisectOnError does not dead-letter a batch for a short outage: splits do not use up the retries, and they wait', async () => {
    const h = harness(failing(3), { bisectOnError: true, maxRetries: 1 });
    const outcome = deliverBatch(batch(16), h.ctx);
    await h.clock.advance(0);
    expect(h.calls).toHaveLength(1);
    expect(h.clock.pendingTimers).toBe(1); // a backoff before the first half is tried
    expect(await drive(outcome, h.clock)).toBe('done');
    expect(h.calls.map((c) => c.records.length)).toEqual([16, 8, 4, 2, 2, 4, 8]);
    expect(h.failures).toEqual([]);
    expect(h.skipped).toEqual([]);
  });

  it('a LeaseLostError from the processor aborts the delivery with no retry', async () => {
    const h = harness(() => Promise.reject(new LeaseLostError('shardId-1', 'shardId-1')), { maxRetries: 0 });
    expect(await deliverBatch(batch(2), h.ctx)).toBe('aborted');
    expect(h.calls).toHaveLength(1);
    expect(h.errors).toEqual([]);
    expect(h.failures).toEqual([]);
    expect(h.skipped).toEqual([]);
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('an abort error after the signal aborted ends the delivery as aborted', async () => {
    const h: ReturnType<typeof harness> = harness(async () => {
      h.controller.abort();
      throw new AbortError();
    });
    expect(await deliverBatch(batch(2), h.ctx)).toBe('aborted');
    expect(h.errors).toEqual([]);
  });

  it('the signal aborting during the backoff wait ends the delivery as aborted', async () => {
    const h = harness(boom());
    const outcome = deliverBatch(batch(2), h.ctx);
    await h.clock.advance(0);
    expect(h.clock.pendingTimers).toBe(1);
    h.controller.abort();
    expect(await outcome).toBe('aborted');
    expect(h.calls).toHaveLength(1);
    expect(h.clock.pendingTimers).toBe(0);
  });

  it('an aborted signal delivers nothing', async () => {
    const h = harness(ok);
    h.controller.abort();
    expect(await deliverBatch(batch(2), h.ctx)).toBe('aborted');
    expect(h.calls).toEqual([]);
  });

  describe('onFinished (what an abandoned delivery may still checkpoint)', () => {
    it('reports the last record once the whole batch succeeded', async () => {
      const h = harness(ok);
      expect(await deliverBatch(batch(3), h.ctx)).toBe('done');
      expect(h.finished).toEqual(['102/0']);
    });

    it('a failing batch finishes nothing until its retry succeeds', async () => {
      const h = harness(boom());
      const outcome = deliverBatch(batch(3), h.ctx);
      await h.clock.advance(0);
      h.controller.abort();
      expect(await outcome).toBe('aborted');
      expect(h.finished).toEqual([]);
    });

    it('a partial failure finishes the records before the first failed one', async () => {
      const h = harness(async () => ({ batchItemFailures: [{ sequenceNumber: '102' }] }));
      const outcome = deliverBatch(batch(5), h.ctx);
      await h.clock.advance(0);
      h.controller.abort();
      expect(await outcome).toBe('aborted');
      expect(h.finished).toEqual(['101/0']);
    });

    it('records given up by the policy count as finished (they are deliberately skipped)', async () => {
      const h = harness(boom(), { maxRetries: 0 });
      expect(await deliverBatch(batch(2), h.ctx)).toBe('done');
      expect(h.finished).toEqual(['101/0']);
    });

    it('bisecting: each half that succeeds is finished in order', async () => {
      const h = harness(async (part) => (part.some((r) => r.sequenceNumber === '106') ? Promise.reject(new Error('bad')) : undefined), {
        bisectOnError: true,
      });
      const outcome = deliverBatch(batch(8), h.ctx);
      await h.clock.runAll(10);
      h.controller.abort();
      expect(await outcome).toBe('aborted');
      // 100..103 and 104..105 succeed; 106 keeps failing; 107 waits behind it.
      expect(h.finished).toEqual(['103/0', '105/0']);
    });
  });

  it('a thrown non-Error is reported as an Error', async () => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const h = harness(failing(1, () => Promise.reject('just a string')));
    await drive(deliverBatch(batch(1), h.ctx), h.clock);
    expect(h.errors[0]!.error).toBeInstanceOf(Error);
    expect(h.errors[0]!.error.message).toBe('just a string');
  });
});

describe('resolveFailurePolicy', () => {
  it('defaults to retrying forever with 500 ms .. 30 s backoff, no age limit, no bisecting', () => {
    expect(resolveFailurePolicy()).toEqual({ ...FAILURE_POLICY_DEFAULTS, onFailure: undefined });
    expect(resolveFailurePolicy().maxRetries).toBe(Infinity);
  });

  it.each([
    [{ maxRetries: -1 }, 'failurePolicy.maxRetries'],
    [{ maxRetries: 1.5 }, 'failurePolicy.maxRetries'],
    [{ retryBaseDelayMillis: -1 }, 'failurePolicy.retryBaseDelayMillis'],
    [{ maxRecordAgeMillis: 0 }, 'failurePolicy.maxRecordAgeMillis'],
    [{ retryBaseDelayMillis: 1_000, retryMaxDelayMillis: 999 }, 'failurePolicy.retryMaxDelayMillis'],
    [{ bisectOnError: 'yes' }, 'failurePolicy.bisectOnError'],
    [{ onFailure: 42 }, 'failurePolicy.onFailure'],
  ])('rejects %o naming %s', (options, field) => {
    expect(() => resolveFailurePolicy(options as FailurePolicyOptions)).toThrow(ConsumerConfigError);
    expect(() => resolveFailurePolicy(options as FailurePolicyOptions)).toThrow(expect.objectContaining({ field, code: 'INVALID_CONFIG' }));
  });
});
