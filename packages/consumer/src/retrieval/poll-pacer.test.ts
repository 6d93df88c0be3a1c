import { describe, expect, it } from 'vitest';
import { PollPacer, type PollPacerOptions } from './poll-pacer.js';

const options: PollPacerOptions = {
  minIntervalMillis: 200,
  idleMaxMillis: 1_000,
  throttleBaseMillis: 100,
  throttleMaxMillis: 1_000,
  errorBaseMillis: 400,
  errorMaxMillis: 3_000,
  // Equal jitter with random 0.5: three quarters of the exponential delay.
  random: () => 0.5,
};

/** Runs calls as fast as the pacer allows; `outcome(i)` reports each call. Returns the call start times. */
function simulate(pacer: PollPacer, calls: number, outcome: (i: number, pacer: PollPacer) => void, callMillis = 0): number[] {
  const starts: number[] = [];
  let now = 10_000;
  for (let i = 0; i < calls; i++) {
    now += pacer.delay(now);
    pacer.callStarted(now);
    starts.push(now);
    now += callMillis;
    outcome(i, pacer);
  }
  return starts;
}

describe('PollPacer', () => {
  it('lets the very first call start at once', () => {
    expect(new PollPacer(options).delay(5_000)).toBe(0);
  });

  it('keeps call starts at least minIntervalMillis apart, counting from the start of the last call', () => {
    const pacer = new PollPacer(options);
    pacer.callStarted(1_000);
    pacer.succeeded(10, 5_000);
    expect(pacer.delay(1_000)).toBe(200);
    expect(pacer.delay(1_150)).toBe(50);
    expect(pacer.delay(1_200)).toBe(0);
    expect(pacer.delay(9_999)).toBe(0);
  });

  it('never starts two calls closer than minIntervalMillis, whatever the outcomes and call durations', () => {
    for (const callMillis of [0, 50, 199, 250]) {
      const starts = simulate(
        new PollPacer(options),
        60,
        (i, p) => {
          if (i % 7 === 3) p.throttled();
          else if (i % 11 === 5) p.failed();
          else p.succeeded(i % 3 === 0 ? 0 : 100, i % 5 === 0 ? 1_000 : 0);
        },
        callMillis,
      );
      const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(200);
    }
  });

  it('goes as fast as allowed while records keep coming or the shard is behind', () => {
    const withRecords = simulate(new PollPacer(options), 5, (_i, p) => p.succeeded(3, 0));
    expect(withRecords.slice(1).map((t, i) => t - withRecords[i]!)).toEqual([200, 200, 200, 200]);
    const behind = simulate(new PollPacer(options), 5, (_i, p) => p.succeeded(0, 60_000));
    expect(behind.slice(1).map((t, i) => t - behind[i]!)).toEqual([200, 200, 200, 200]);
  });

  it('doubles the idle wait from minIntervalMillis up to idleMaxMillis, and resets it when records arrive', () => {
    const pacer = new PollPacer(options);
    const later = 1_000_000; // far from the last start: only the idle wait counts
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      pacer.succeeded(0, 0);
      waits.push(pacer.delay(later));
    }
    expect(waits).toEqual([200, 400, 800, 1_000, 1_000, 1_000]);

    pacer.succeeded(1, 0);
    expect(pacer.delay(later)).toBe(0);
    pacer.succeeded(0, 0);
    expect(pacer.delay(later)).toBe(200);
    pacer.succeeded(0, 0);
    expect(pacer.delay(later)).toBe(400);

    // Behind the tip of the shard counts as activity even with an empty answer.
    pacer.succeeded(0, 1);
    expect(pacer.delay(later)).toBe(0);
    pacer.succeeded(0, 0);
    expect(pacer.delay(later)).toBe(200);
  });

  it('the idle wait covers the rate limit: the longer of the two applies', () => {
    const pacer = new PollPacer(options);
    pacer.callStarted(1_000);
    pacer.succeeded(0, 0);
    pacer.succeeded(0, 0); // idle wait 400
    expect(pacer.delay(1_000)).toBe(400);
  });

  it('backs off exponentially after throttling, up to throttleMaxMillis, and resets on success', () => {
    const pacer = new PollPacer(options);
    const later = 1_000_000;
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      pacer.throttled();
      waits.push(pacer.delay(later));
    }
    // 0.75 × min(1000, 100 × 2^(n-1)).
    expect(waits).toEqual([75, 150, 300, 600, 750, 750]);
    expect(pacer.consecutiveThrottles).toBe(6);

    pacer.succeeded(5, 0);
    expect(pacer.consecutiveThrottles).toBe(0);
    expect(pacer.delay(later)).toBe(0);
    pacer.throttled();
    expect(pacer.consecutiveThrottles).toBe(1);
    expect(pacer.delay(later)).toBe(75);
  });

  it('uses the random source for the jitter (equal jitter: between half and all of the delay)', () => {
    const low = new PollPacer({ ...options, random: () => 0 });
    const high = new PollPacer({ ...options, random: () => 0.999_999 });
    for (let i = 0; i < 3; i++) {
      low.throttled();
      high.throttled();
    }
    expect(low.delay(1_000_000)).toBe(200); // half of 400
    expect(high.delay(1_000_000)).toBeCloseTo(400, 1);
  });

  it('backs off after other failures with its own base and cap, reset by a success', () => {
    const pacer = new PollPacer(options);
    const later = 1_000_000;
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      pacer.failed();
      waits.push(pacer.delay(later));
    }
    // 0.75 × min(3000, 400 × 2^(n-1)).
    expect(waits).toEqual([300, 600, 1_200, 2_250, 2_250]);
    expect(pacer.consecutiveThrottles).toBe(0);
    pacer.succeeded(1, 0);
    pacer.failed();
    expect(pacer.delay(later)).toBe(300);
  });

  it('an idle wait never starts from 0, even with minIntervalMillis 0 (an idle shard is not polled nonstop)', () => {
    const pacer = new PollPacer({ ...options, minIntervalMillis: 0 });
    const later = 1_000_000;
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      pacer.succeeded(0, 0);
      waits.push(pacer.delay(later));
    }
    expect(waits).toEqual([10, 20, 40, 80, 160, 320, 640, 1_000]);
  });

  it('a backoff served by GetShardIterator retries is not waited again before the next GetRecords', () => {
    const pacer = new PollPacer(options);
    const later = 1_000_000;
    pacer.throttled();
    pacer.throttled();
    expect(pacer.delay(later)).toBe(150);
    pacer.backoffServed();
    expect(pacer.delay(later)).toBe(0);
    // The counters stay until a GetRecords succeeds: the next throttle backs off further.
    pacer.throttled();
    expect(pacer.delay(later)).toBe(300);
  });
});
