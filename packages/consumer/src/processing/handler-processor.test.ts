import type { UserRecord } from '@kinesis-kit/aggregation';
import { ManualClock } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import type { Checkpointer } from '../checkpoint/checkpointer.js';
import { CheckpointThrottledError, LeaseLostError } from '../errors.js';
import { deliverBatch } from './batch-delivery.js';
import { resolveFailurePolicy } from './failure-policy.js';
import { eachBatchProcessorFactory, eachRecordProcessorFactory } from './handler-processor.js';
import type { EachBatchPayload, EachRecordPayload, ProcessRecordsInput, ProcessRecordsResult, ShardRecordProcessor } from './processor.js';

function rec(seq: string, sub = 0): UserRecord {
  return { partitionKey: 'k', data: new Uint8Array([sub]), sequenceNumber: seq, subSequenceNumber: sub, aggregated: sub > 0 };
}

const records = [rec('100'), rec('101'), rec('102'), rec('103'), rec('104')];

/** A checkpointer that records its calls (arguments as given). */
function fakeCheckpointer(): { checkpointer: Checkpointer; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const checkpointer = {
    checkpoint: async (...args: unknown[]) => {
      calls.push(args);
    },
    prepareCheckpoint: async () => {
      throw new Error('not expected');
    },
  } as unknown as Checkpointer;
  return { checkpointer, calls };
}

function input(checkpointer: Checkpointer, recs: UserRecord[] = records, extra: Partial<ProcessRecordsInput> = {}): ProcessRecordsInput {
  return {
    shardId: 'shardId-7',
    records: recs,
    checkpointer,
    millisBehindLatest: 1_234,
    isAtShardEnd: false,
    attempt: 0,
    signal: new AbortController().signal,
    ...extra,
  };
}

/** The sequence numbers of the records checkpointed through checkpoint(record). */
function checkpointed(calls: unknown[][]): string[] {
  return calls.map((args) => {
    const r = args[0] as UserRecord;
    return `${r.sequenceNumber}/${r.subSequenceNumber}`;
  });
}

async function process(processor: ShardRecordProcessor, i: ProcessRecordsInput): Promise<void | ProcessRecordsResult> {
  return processor.processRecords(i);
}

describe('eachBatchProcessorFactory', () => {
  it('hands the batch to the handler and checkpoints its last record after success', async () => {
    const payloads: EachBatchPayload[] = [];
    const { checkpointer, calls } = fakeCheckpointer();
    const signal = new AbortController().signal;
    const processor = eachBatchProcessorFactory((p) => {
      payloads.push(p);
    })('shardId-7');
    const result = await process(processor, input(checkpointer, records, { attempt: 2, isAtShardEnd: true, signal }));
    expect(result).toBeUndefined();
    expect(payloads).toEqual([{ shardId: 'shardId-7', records, millisBehindLatest: 1_234, isAtShardEnd: true, attempt: 2, signal }]);
    expect(calls).toEqual([[records[4]]]);
  });

  it('partial success: checkpoints up to the record before the first failure and returns the result', async () => {
    const { checkpointer, calls } = fakeCheckpointer();
    const failures = { batchItemFailures: [{ sequenceNumber: '102' }] };
    const processor = eachBatchProcessorFactory(async () => failures)('shardId-7');
    expect(await process(processor, input(checkpointer))).toBe(failures);
    expect(checkpointed(calls)).toEqual(['101/0']);
  });

  it('partial success honours sub-sequence numbers of aggregated records', async () => {
    const agg = [rec('500', 0), rec('500', 1), rec('500', 2), rec('500', 3)];
    const { checkpointer, calls } = fakeCheckpointer();
    await process(eachBatchProcessorFactory(() => ({ batchItemFailures: [{ sequenceNumber: '500', subSequenceNumber: 2 }] }))('s'), input(checkpointer, agg));
    expect(checkpointed(calls)).toEqual(['500/1']);
  });

  it('no checkpoint when the first record failed, when the failure names an unknown record, or for an empty batch', async () => {
    const { checkpointer, calls } = fakeCheckpointer();
    await process(eachBatchProcessorFactory(() => ({ batchItemFailures: [{ sequenceNumber: '100' }] }))('s'), input(checkpointer));
    await process(eachBatchProcessorFactory(() => ({ batchItemFailures: [{ sequenceNumber: '999' }] }))('s'), input(checkpointer));
    await process(eachBatchProcessorFactory(() => undefined)('s'), input(checkpointer, []));
    expect(calls).toEqual([]);
  });

  it('an empty batchItemFailures list is full success', async () => {
    const { checkpointer, calls } = fakeCheckpointer();
    await process(eachBatchProcessorFactory(() => ({ batchItemFailures: [] }))('s'), input(checkpointer));
    expect(checkpointed(calls)).toEqual(['104/0']);
  });

  it('a checkpoint throttled after a successful batch does not fail the batch (no re-run); a lost lease does', async () => {
    const throttled: Checkpointer = {
      checkpoint: () => Promise.reject(new CheckpointThrottledError('shardId-7', 'shardId-7')),
    } as unknown as Checkpointer;
    let runs = 0;
    const processor = eachBatchProcessorFactory(() => void runs++)('s');
    await expect(process(processor, input(throttled))).resolves.toBeUndefined();
    expect(runs).toBe(1);
    const lost: Checkpointer = { checkpoint: () => Promise.reject(new LeaseLostError('shardId-7', 'shardId-7')) } as unknown as Checkpointer;
    await expect(process(processor, input(lost))).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('a throwing handler: no checkpoint, the error propagates', async () => {
    const { checkpointer, calls } = fakeCheckpointer();
    const error = new Error('handler failed');
    const processor = eachBatchProcessorFactory(async () => {
      throw error;
    })('s');
    await expect(process(processor, input(checkpointer))).rejects.toBe(error);
    expect(calls).toEqual([]);
  });

  // BUG: checkpointProcessed uses batchItemFailures[0], not the earliest failed record; deliverBatch
  // (and Lambda) retry from the earliest one, so record 101 is checkpointed although it failed.
  it('never checkpoints past a failed record when batchItemFailures are not in record order', async () => {
    const { checkpointer, calls } = fakeCheckpointer();
    const processor = eachBatchProcessorFactory(() => ({ batchItemFailures: [{ sequenceNumber: '103' }, { sequenceNumber: '101' }] }))('s');
    await process(processor, input(checkpointer));
    expect(checkpointed(calls)).toEqual(['100/0']);
  });
});

describe('eachRecordProcessorFactory', () => {
  it('processes the records one at a time, in order, then checkpoints the last one', async () => {
    const events: string[] = [];
    const payloads: EachRecordPayload[] = [];
    const { checkpointer, calls } = fakeCheckpointer();
    const signal = new AbortController().signal;
    const processor = eachRecordProcessorFactory(async (p) => {
      payloads.push(p);
      events.push(`start ${p.record.sequenceNumber}`);
      await new Promise<void>((resolve) => setImmediate(resolve));
      events.push(`end ${p.record.sequenceNumber}`);
    })('shardId-7');
    expect(await process(processor, input(checkpointer, records.slice(0, 3), { signal }))).toBeUndefined();
    expect(events).toEqual(['start 100', 'end 100', 'start 101', 'end 101', 'start 102', 'end 102']);
    expect(payloads[1]).toEqual({ shardId: 'shardId-7', record: records[1], signal });
    expect(calls).toEqual([[records[2]]]);
  });

  it('a throw at record i: checkpoints the records before i and rethrows with batchItemFailures from i', async () => {
    const { checkpointer, calls } = fakeCheckpointer();
    const seen: string[] = [];
    const error = new Error('record 102 failed');
    const processor = eachRecordProcessorFactory(({ record }) => {
      seen.push(record.sequenceNumber);
      if (record.sequenceNumber === '102') throw error;
    })('s');
    const thrown = await process(processor, input(checkpointer)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(thrown).toBe(error);
    expect(thrown).toMatchObject({ batchItemFailures: [{ sequenceNumber: '102', subSequenceNumber: 0 }] });
    expect(seen).toEqual(['100', '101', '102']);
    expect(checkpointed(calls)).toEqual(['101/0']);
  });

  it('names the failed sub-record of an aggregated record', async () => {
    const agg = [rec('500', 0), rec('500', 1), rec('500', 2)];
    const { checkpointer, calls } = fakeCheckpointer();
    const processor = eachRecordProcessorFactory(({ record }) => {
      if (record.subSequenceNumber === 2) throw new Error('bad');
    })('s');
    await expect(process(processor, input(checkpointer, agg))).rejects.toMatchObject({
      batchItemFailures: [{ sequenceNumber: '500', subSequenceNumber: 2 }],
    });
    expect(checkpointed(calls)).toEqual(['500/1']);
  });

  it('a throw at the first record: no checkpoint, the error is rethrown as is', async () => {
    const { checkpointer, calls } = fakeCheckpointer();
    const error = new Error('first failed');
    const processor = eachRecordProcessorFactory(() => {
      throw error;
    })('s');
    const thrown = await process(processor, input(checkpointer)).catch((err: unknown) => err);
    expect(thrown).toBe(error);
    expect(thrown).not.toHaveProperty('batchItemFailures');
    expect(calls).toEqual([]);
  });

  it('a thrown non-Error becomes an Error carrying batchItemFailures', async () => {
    const { checkpointer } = fakeCheckpointer();
    const processor = eachRecordProcessorFactory(({ record }) => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      if (record.sequenceNumber === '101') throw 'nope';
    })('s');
    const thrown = await process(processor, input(checkpointer)).catch((err: unknown) => err);
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).toMatchObject({ message: 'nope', batchItemFailures: [{ sequenceNumber: '101', subSequenceNumber: 0 }] });
  });

  it('under deliverBatch, a failed record and the rest are retried, and the checkpoint follows', async () => {
    const { checkpointer, calls } = fakeCheckpointer();
    const handled: string[] = [];
    let failedOnce = false;
    const processor = eachRecordProcessorFactory(({ record }) => {
      if (record.sequenceNumber === '102' && !failedOnce) {
        failedOnce = true;
        throw new Error('transient');
      }
      handled.push(record.sequenceNumber);
    })('s');
    const clock = new ManualClock();
    const outcome = deliverBatch(records, {
      shardId: 's',
      policy: resolveFailurePolicy(),
      clock,
      random: () => 0.5,
      signal: new AbortController().signal,
      invoke: (part, attempt) => Promise.resolve(processor.processRecords(input(checkpointer, part, { attempt }))),
      onError: () => undefined,
      onSkipped: () => undefined,
      onFinished: () => undefined,
      onFailureHookFailed: () => undefined,
    });
    await clock.runAll();
    expect(await outcome).toBe('done');
    expect(handled).toEqual(['100', '101', '102', '103', '104']);
    expect(checkpointed(calls)).toEqual(['101/0', '104/0']);
  });
});

describe('checkpointing lifecycle of the handler processors', () => {
  it.each([
    ['eachBatch', eachBatchProcessorFactory(() => undefined)],
    ['eachRecord', eachRecordProcessorFactory(() => undefined)],
  ])('%s: shardEnded and shutdownRequested call checkpoint() with no argument', async (_name, factory) => {
    const processor = factory('shardId-7');
    const ended = fakeCheckpointer();
    await processor.shardEnded!({ shardId: 'shardId-7', checkpointer: ended.checkpointer });
    expect(ended.calls).toEqual([[]]);
    const shutdown = fakeCheckpointer();
    await processor.shutdownRequested!({ shardId: 'shardId-7', checkpointer: shutdown.checkpointer });
    expect(shutdown.calls).toEqual([[]]);
  });

  it('a failing lifecycle checkpoint propagates', async () => {
    const error = new Error('lease lost');
    const checkpointer = { checkpoint: () => Promise.reject(error) } as unknown as Checkpointer;
    await expect(eachBatchProcessorFactory(() => undefined)('s').shardEnded!({ shardId: 's', checkpointer })).rejects.toBe(error);
  });
});
