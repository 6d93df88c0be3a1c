/**
 * Benchmark plumbing shared by every suite: a suite returns rows (our figure beside the peer's,
 * measured in the same run), and the runner prints one table and writes JSON + Markdown.
 */
import os from 'node:os';

export interface BenchRow {
  /** What is measured, e.g. "encode, user records/s". */
  metric: string;
  /** Our figure. */
  ours: number;
  unit: string;
  /** The peer's figure from the same run, when there is a peer. */
  peer?: number;
  peerName?: string;
  /** The target in words, e.g. ">= 3x aws-kinesis-agg". */
  target?: string;
  /** Whether the target was met (undefined when there is no target). */
  pass?: boolean;
}

export interface BenchSuiteResult {
  suite: string;
  rows: BenchRow[];
  notes?: string[];
}

export interface BenchSuite {
  name: string;
  run(options: { quick: boolean }): Promise<BenchSuiteResult>;
}

export function ratio(row: BenchRow): number | undefined {
  return row.peer !== undefined && row.peer !== 0 ? row.ours / row.peer : undefined;
}

export function machineInfo(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function markdownTable(results: BenchSuiteResult[]): string {
  const lines = ['| suite | metric | ours | peer | ratio | target | met |', '|---|---|---:|---:|---:|---|---|'];
  for (const r of results) {
    for (const row of r.rows) {
      const q = ratio(row);
      lines.push(
        `| ${r.suite} | ${row.metric} | ${formatNumber(row.ours)} ${row.unit} | ${
          row.peer !== undefined ? `${formatNumber(row.peer)} (${row.peerName ?? 'peer'})` : ''
        } | ${q !== undefined ? `${q.toFixed(2)}x` : ''} | ${row.target ?? ''} | ${row.pass === undefined ? '' : row.pass ? 'yes' : 'NO'} |`,
      );
    }
  }
  return lines.join('\n');
}

/** Runs `fn` repeatedly for about `ms` and returns operations per second (after a warm-up). */
export async function measureRate(fn: () => number | Promise<number>, ms: number, warmupMs = Math.min(500, ms / 4)): Promise<number> {
  return (await measureRateAndCpu(fn, ms, warmupMs)).rate;
}

/**
 * measureRate, plus the process CPU time (every thread: the main one, GC helpers, libuv) per
 * operation: a side that gets its speed from a second core shows it here.
 */
export async function measureRateAndCpu(
  fn: () => number | Promise<number>,
  ms: number,
  warmupMs = Math.min(500, ms / 4),
): Promise<{ rate: number; cpuMicrosPerOp: number }> {
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) await fn();
  let ops = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    ops += await fn();
    now = performance.now();
  }
  const used = process.cpuUsage(cpu);
  return { rate: (ops * 1000) / (now - start), cpuMicrosPerOp: (used.user + used.system) / ops };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Polls `condition` every `pollMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string, pollMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
