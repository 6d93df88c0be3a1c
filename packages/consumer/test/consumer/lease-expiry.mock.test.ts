import { systemClock, type Clock } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { KinesisConsumer, type ShardRecordProcessor } from '../../src/index.js';
import { createStream, decode, produce, until, useBackendPerTest } from './harness.js';

const backends = useBackendPerTest();

/** Real time and real timers, plus an offset the test moves forward (what a stalled renewal looks like, without waiting for it). */
function jumpingClock(): Clock & { jump(ms: number): void } {
  let offset = 0;
  return {
    now: () => systemClock.now() + offset,
    monotonic: () => systemClock.monotonic() + offset,
    setTimer: (fn, ms) => systemClock.setTimer(fn, ms),
    jump: (ms) => {
      offset += ms;
    },
  };
}

describe('a lease that expires locally', () => {
  // failoverTimeMillis 30 s: the renewal pass runs every ~10 s of real time, so none runs during the
  // test. The clock jumps past the lease's expiry; the next batch must not reach the processor
  // through that acquisition (a peer may own the shard by now): it ends with leaseLost first.
  it('gets no batch after its expiry, even before a renewal pass notices', async () => {
    const backend = await backends.start();
    await createStream(backend, 'expiry', 1);
    const clock = jumpingClock();
    const events: string[] = [];
    let acquisitions = 0;
    const consumer = backends.track(
      new KinesisConsumer({
        applicationName: 'expiry-app',
        streamName: 'expiry',
        kinesisClient: backend.kinesis,
        dynamoDbClient: backend.dynamoDb,
        workerId: 'w1',
        initialPosition: 'TRIM_HORIZON',
        clock,
        leaseManagement: { failoverTimeMillis: 30_000, takerInitialJitterMillis: 50, fastTakerIntervalMillis: 200 },
        retrieval: { mode: 'polling', idleTimeBetweenReadsMillis: 50 },
        processorFactory: (): ShardRecordProcessor => {
          const acquisition = ++acquisitions;
          return {
            initialize: () => void events.push(`${acquisition} initialize`),
            processRecords: ({ records }) => {
              for (const r of records) events.push(`${acquisition} ${decode(r).key}#${decode(r).n}`);
            },
            leaseLost: () => void events.push(`${acquisition} leaseLost`),
            shutdownRequested: async ({ checkpointer }) => {
              await checkpointer.checkpoint();
            },
          };
        },
      }),
    );
    await consumer.start();
    await produce(backend, 'expiry', 1, 1, 0);
    await until(() => events.includes('1 key-0#0'), 'the first record');

    clock.jump(31_000);
    await produce(backend, 'expiry', 1, 1, 1);
    // The table still names this worker: its taker takes the lease again (a new acquisition) and
    // reads on from the checkpoint, so nothing is lost.
    await until(() => events.some((e) => e.endsWith('key-0#1')), 'the second record, through some acquisition');
    expect(events.filter((e) => e.startsWith('1 '))).toEqual(['1 initialize', '1 key-0#0', '1 leaseLost']);
  });
});
