/**
 * Memory soak (a script, not a test): a producer and a polling consumer at a steady 1,000 user records/s
 * against the mock (limits on, in a child process) for N minutes (default 10), sampling heapUsed after a
 * full GC every 10 s, printing the samples and the least-squares slope over the second half of the run,
 * and exiting 1 if the slope exceeds the threshold.
 *
 *   node --expose-gc --conditions=@kinesis-kit/source --import tsx test/chaos/memory-soak.ts [minutes]
 *
 * (`--expose-gc` makes `global.gc` available; without it the soak turns the flag on at run time.)
 * CHAOS_SEED sets the seed of the keys and record sizes.
 *
 * Threshold: 1 MiB/min. At 1,000 records/s, 60,000 records go through each minute, so 1 MiB/min is about
 * 17 bytes per record: anything that keeps a trace per record (a Map entry, a closure, a settled promise, an
 * attempt object: 50 bytes and up) exceeds it within the run, while a flat heap after a forced full GC moves
 * by a few hundred KB (lease renewals, SDK caches, timers) and its slope over the second half of a 10-minute
 * run (30 samples over 5 minutes) stays well under it. The first half is excluded: caches, JIT and the
 * young generation's sizing settle there.
 */
import { chaosSeed, printChaosReport } from './chaos-report.js';
import { runSoak } from './memory-soak-lib.js';

const THRESHOLD_BYTES_PER_MINUTE = 1024 * 1024;
const minutes = Number(process.argv[2] ?? '10');
if (!(minutes > 0)) {
  console.error(`usage: memory-soak.ts [minutes > 0], got "${process.argv[2]}"`);
  process.exit(2);
}
const seed = chaosSeed(20261201);
const durationMs = Math.round(minutes * 60_000);
const mib = (b: number): string => (b / 1024 / 1024).toFixed(2);

console.log(`memory soak: ${minutes} min, 1,000 records/s, seed ${seed}, samples every 10 s`);
console.log('elapsed_s  heapUsed_MiB  rss_MiB');
const result = await runSoak({
  durationMs,
  sampleIntervalMs: 10_000,
  recordsPerSecond: 1_000,
  seed,
  onSample: (s) => console.log(`${(s.elapsedMs / 1000).toFixed(0).padStart(9)}  ${mib(s.heapUsed).padStart(12)}  ${mib(s.rss).padStart(7)}`),
});
const heaps = result.samples.map((s) => s.heapUsed);
const pass = result.slopeBytesPerMinute <= THRESHOLD_BYTES_PER_MINUTE && result.failed === 0 && result.delivered >= result.acknowledged;
printChaosReport('memory soak', seed, {
  minutes,
  gc: result.gc,
  samples: result.samples.length,
  'samples in the second half': result.secondHalfSamples,
  'heapUsed first / min / max / last (MiB)': `${mib(heaps[0]!)} / ${mib(Math.min(...heaps))} / ${mib(Math.max(...heaps))} / ${mib(heaps.at(-1)!)}`,
  'slope, second half (bytes/min)': Math.round(result.slopeBytesPerMinute),
  'slope per record (bytes)': (result.slopeBytesPerMinute / 60_000).toFixed(2),
  'threshold (bytes/min)': THRESHOLD_BYTES_PER_MINUTE,
  'put / acknowledged / failed': `${result.put} / ${result.acknowledged} / ${result.failed}`,
  'delivered (at least once)': result.delivered,
  verdict: pass ? 'PASS' : 'FAIL',
});
process.exit(pass ? 0 : 1);
