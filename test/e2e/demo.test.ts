import { activeResources, leakedResources } from '@kinesis-kit/core';
import { runDemo } from '@kinesis-kit/cli';
import { describe, expect, it } from 'vitest';

// The README's first command, shortened: producer -> embedded mock (AWS limits on) -> two consumer
// workers, with a split and a graceful stop mid-run, then the verification.
describe('demo pipeline on the embedded mock', () => {
  it('consumes every acknowledged record in per-key order through a split and a worker stop', async () => {
    const before = activeResources();
    const lines: string[] = [];
    const report = await runDemo({ durationMs: 8000, shards: 4, ratePerSecond: 800, keys: 50, progressIntervalMs: 0, failoverTimeMillis: 3000 }, { log: (l) => lines.push(l) });

    expect(report.ledger.failedPuts).toBe(0);
    expect(report.ledger.acknowledged).toBeGreaterThan(5000);
    expect(report.ledger.missing).toBe(0);
    expect(report.ledger.orderViolations).toBe(0);
    expect(report.passed).toBe(true);
    expect(report.splitShard).toMatch(/^shardId-/);
    expect(report.stoppedWorker).toBe('worker-a');
    // After the stop, worker-b processed shards worker-a had.
    expect(report.shardsByWorker['worker-b']?.some((s) => report.shardsByWorker['worker-a']?.includes(s))).toBe(true);
    expect(lines.some((l) => l.includes('split'))).toBe(true);
    expect(await leakedResources(before)).toEqual({});
  });
});
