import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { RepeatedLog } from './repeated-log.js';

describe('RepeatedLog', () => {
  it('says a key at once, then at most once per interval with how many went unsaid in between', async () => {
    const clock = new ManualClock();
    const log = new RepeatedLog(clock, 10_000);
    const said: [string, number][] = [];
    const note = (key: string): void => log.note(key, ({ suppressed }) => void said.push([key, suppressed ?? 0]));

    note('Throttled');
    note('Throttled');
    note('InternalFailure'); // another key is said on its own
    await clock.advance(9_999);
    note('Throttled');
    expect(said).toEqual([
      ['Throttled', 0],
      ['InternalFailure', 0],
    ]);
    await clock.advance(1);
    note('Throttled'); // the interval has passed: said, with the two unsaid since
    note('Throttled');
    expect(said.at(-1)).toEqual(['Throttled', 2]);
    await clock.advance(60_000);
    note('Throttled'); // after a quiet spell: said again, one unsaid before it
    expect(said).toEqual([
      ['Throttled', 0],
      ['InternalFailure', 0],
      ['Throttled', 2],
      ['Throttled', 1],
    ]);
  });

  it('keeps at most 256 keys: ones quiet for an interval are dropped first, else the oldest', async () => {
    const clock = new ManualClock();
    const log = new RepeatedLog(clock, 1_000);
    let said = 0;
    for (let i = 0; i < 256; i++) log.note(`k${i}`, () => void (said += 1));
    await clock.advance(1_000);
    for (let i = 256; i < 600; i++) log.note(`k${i}`, () => void (said += 1));
    expect(said).toBe(600);
    expect(log.size).toBe(256);
    log.note('k599', () => void (said += 1)); // recent: still known, so not said again
    expect(said).toBe(600);
  });
});
