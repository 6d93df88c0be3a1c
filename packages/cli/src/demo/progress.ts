import { textTable } from '../text-table.js';

export interface ShardProgress {
  shardId: string;
  /** Workers holding the shard's lease (more than one only for a moment during a handoff). */
  holder: string;
  state: string;
  consumed: number;
  /** MillisBehindLatest reported by the shard consumer. */
  millisBehindLatest?: number | undefined;
}

export interface ProgressSnapshot {
  elapsedMs: number;
  produced: number;
  acknowledged: number;
  consumed: number;
  /** Put -> processRecords latency of the last interval, p50, when any record arrived. */
  latencyP50Ms?: number | undefined;
  shards: ShardProgress[];
}

/** The demo's periodic status block: totals on one line, then one row per shard. */
export function renderProgress(s: ProgressSnapshot): string {
  const seconds = (s.elapsedMs / 1000).toFixed(0).padStart(3);
  const latency = s.latencyP50Ms === undefined ? '' : `, put->process p50 ${Math.round(s.latencyP50Ms)} ms`;
  const head = `[${seconds}s] produced ${s.produced}, acknowledged ${s.acknowledged}, consumed ${s.consumed}${latency}`;
  const rows = [...s.shards]
    .sort((a, b) => a.shardId.localeCompare(b.shardId))
    .map((shard) => [
      shard.shardId,
      shard.holder,
      shard.state,
      String(shard.consumed),
      shard.millisBehindLatest === undefined ? '-' : `${shard.millisBehindLatest} ms`,
    ]);
  if (rows.length === 0) return head;
  return `${head}\n${indent(textTable(['shard', 'worker', 'state', 'consumed', 'behind'], rows))}`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
