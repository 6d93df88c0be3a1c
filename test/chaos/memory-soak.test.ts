/**
 * The memory soak's short run (18 s of load, samples every 2 s; with start-up and drain the file stays near
 * the short profile's 20 s): the soak completes, delivers what was acknowledged and reports samples. The
 * slope is not asserted here (seconds are too short to tell a leak from warm-up); the script
 * test/chaos/memory-soak.ts runs the same function for minutes and checks the slope.
 */
import { describe, expect, it } from 'vitest';
import { chaosSeed, printChaosReport } from './chaos-report.js';
import { runSoak } from './memory-soak-lib.js';

const SEED = chaosSeed(20261201);

describe('memory soak (short run)', () => {
  it('runs producer + consumer at a steady load for 18 s and reports heap samples', async () => {
    const result = await runSoak({ durationMs: 18_000, sampleIntervalMs: 2_000, recordsPerSecond: 1_000, seed: SEED });
    const mib = (b: number): string => (b / 1024 / 1024).toFixed(2);
    printChaosReport('memory soak (18 s)', SEED, {
      gc: result.gc,
      samples: result.samples.length,
      'heapUsed samples (MiB)': result.samples.map((s) => mib(s.heapUsed)).join(' '),
      'slope, second half (bytes/min, not asserted)': Math.round(result.slopeBytesPerMinute),
      'put / acknowledged / failed': `${result.put} / ${result.acknowledged} / ${result.failed}`,
      'delivered (at least once)': result.delivered,
    });
    expect(result.samples.length).toBeGreaterThanOrEqual(9);
    expect(result.samples.every((s) => s.heapUsed > 0)).toBe(true);
    expect(result.gc).not.toBe('none');
    expect(result.put).toBeGreaterThan(10_000);
    expect(result.failed).toBe(0);
    expect(result.acknowledged).toBe(result.put);
    expect(result.delivered).toBeGreaterThanOrEqual(result.acknowledged);
  }, 120_000);
});
