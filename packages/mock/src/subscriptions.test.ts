import { ManualClock, silentLogger } from '@kinesis-kit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { KinesisEngine } from './engine.js';
import { NO_LIMITS } from './limits.js';
import { SubscriptionManager, type SubscriptionSink } from './subscriptions.js';

// An idle subscription keeps sending empty events (heartbeats), as AWS does, also after it had to
// wait: for a client that stopped reading (drain) or for read-rate tokens.

const HEARTBEAT_MS = 200;
let engine: KinesisEngine | undefined;

afterEach(() => {
  engine?.close();
  engine = undefined;
});

interface Harness {
  clock: ManualClock;
  events: number[];
  /** The next write reports a full window; `drain()` reopens it. */
  blockNextWrite(): void;
  drain(): void;
  put(bytes: number): void;
  stop(): void;
}

async function subscribed(limits = NO_LIMITS): Promise<Harness> {
  const clock = new ManualClock();
  engine = new KinesisEngine({ clock, limits });
  const e = engine;
  const stream = e.createStream('s', 1);
  await clock.advance(1_000); // ACTIVE
  const { consumer } = e.registerConsumer(stream.arn, 'c');
  await clock.advance(1_000); // ACTIVE
  const manager = new SubscriptionManager(e, { durationMs: 300_000, heartbeatMs: HEARTBEAT_MS, cooldownMs: 0 }, silentLogger);
  const events: number[] = [];
  let block = false;
  let onDrain: (() => void) | undefined;
  const sink: SubscriptionSink = {
    write(frame) {
      if (frame.toString('latin1').includes('SubscribeToShardEvent')) events.push(clock.monotonic());
      if (!block) return true;
      block = false;
      return false;
    },
    onDrain: (fn) => void (onDrain = fn),
    end: () => {},
    abort: () => {},
    onClose: () => {},
  };
  const subscription = manager.start({ consumer, stream, shard: stream.shards[0]!, startCounter: 1 }, sink, {
    stall: false,
    streamErrorRate: 0,
    streamErrorCode: 'InternalFailureException',
    roll: () => false,
  });
  return {
    clock,
    events,
    blockNextWrite: () => void (block = true),
    drain: () => onDrain?.(),
    put: (bytes) =>
      void e.putRecords(stream, [{ partitionKey: 'k', keyBytes: 1, data: Buffer.alloc(bytes), dataBytes: bytes, hashKeyHex: '0'.repeat(32) }]),
    stop: () => subscription.finish(),
  };
}

/** Events sent in (from, to] of the clock's monotonic time. */
const between = (events: number[], from: number, to: number) => events.filter((t) => t > from && t <= to).length;

describe('SubscribeToShard heartbeats', () => {
  it('resume after the client stopped reading for longer than the heartbeat interval', async () => {
    const h = await subscribed();
    await h.clock.advance(HEARTBEAT_MS * 2);
    h.blockNextWrite();
    h.put(10);
    await h.clock.advance(HEARTBEAT_MS * 3); // the client reads nothing meanwhile
    h.drain();
    const drainedAt = h.clock.monotonic();
    await h.clock.advance(HEARTBEAT_MS * 10);
    expect(between(h.events, drainedAt, drainedAt + HEARTBEAT_MS * 10)).toBeGreaterThanOrEqual(8);
    h.stop();
  });

  it('resume after a wait for read-rate tokens longer than the heartbeat interval', async () => {
    const h = await subscribed({ ...NO_LIMITS, subscriptionBytesPerSecond: 100_000, burstSeconds: 1 });
    await h.clock.advance(HEARTBEAT_MS);
    h.put(150_000); // 50 KB beyond the burst: about 0.5 s in debt once sent
    await h.clock.advance(1_000); // the debt is repaid
    const from = h.clock.monotonic();
    await h.clock.advance(HEARTBEAT_MS * 10);
    expect(between(h.events, from, from + HEARTBEAT_MS * 10)).toBeGreaterThanOrEqual(8);
    h.stop();
  });
});
