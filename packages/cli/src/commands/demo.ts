import { parseArgs } from 'node:util';
import { UsageError } from '../cli-error.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionOptions, positiveNumber } from '../connection-args.js';
import { runDemo, type DemoReport } from '../demo/demo-pipeline.js';
import { DEMO_DEFAULTS, DEMO_LIMITS } from '../demo/demo-options.js';
import type { CommandIo } from './command.js';

export const DEMO_USAGE = `Usage: kinesis-kit demo [options]
  --duration <s>             seconds of producing (default ${DEMO_DEFAULTS.durationMs / 1000})
  --shards <n>               shards of the demo stream (default ${DEMO_DEFAULTS.shards})
  --rate <n>                 user records per second (default ${DEMO_DEFAULTS.ratePerSecond})
  --keys <n>                 distinct partition keys (default ${DEMO_DEFAULTS.keys})
  --fanout                   enhanced fan-out instead of polling
  --keep                     on an external endpoint, keep the stream and lease table afterwards
  --json                     print the final report as JSON on stdout (progress goes to stderr)
${CONNECTION_USAGE}
Without --endpoint everything runs in-process on the embedded mock. With it, a stream and a lease table
named kinesis-kit-demo-<random> are created there (and deleted at the end unless --keep): on real AWS
that costs money. Exits 0 only if the verification passes, 1 if it fails, 130 when interrupted.`;

/**
 * A numeric flag checked against the option's range, in the flag's unit (`scale` option units per
 * flag unit), so the message names the flag the user typed: `--duration: must be between 1 and 3600 s`.
 */
function flagInRange(value: string | undefined, flag: string, option: keyof typeof DEMO_LIMITS, scale = 1, unit = ''): number {
  const n = positiveNumber(value, flag, (DEMO_DEFAULTS[option] as number) / scale);
  const { min, max } = DEMO_LIMITS[option];
  if (n * scale < min || n * scale > max) throw new UsageError(`${flag}: must be between ${min / scale} and ${max / scale}${unit}, got ${value}`);
  return n * scale;
}

export function formatReport(r: DemoReport): string {
  const l = r.ledger;
  const lines = [
    '',
    r.interrupted ? 'verification: not done (interrupted)' : `verification: ${r.passed ? 'PASSED' : 'FAILED'}`,
    `  records acknowledged by Kinesis   ${l.acknowledged}`,
    `  consumed (at least once)          ${l.uniqueDelivered}   missing ${l.missing}${l.missing > 0 ? ` (e.g. ${l.missingSample.join(', ')})` : ''}`,
    `  per-key order violations          ${l.orderViolations}${l.orderViolations > 0 ? ` (${l.orderViolationSample.join('; ')})` : ''}`,
    `  duplicates (redelivered)          ${l.duplicates}`,
    `  failed puts                       ${l.failedPuts}`,
    `  shard split                       ${r.splitShard ?? 'no'}`,
    `  graceful stop of                  ${r.stoppedWorker ?? 'no worker'}${r.takeoverMs !== undefined ? `, shards taken over in ${(r.takeoverMs / 1000).toFixed(1)} s` : ''}`,
    ...Object.entries(r.shardsByWorker).map(([w, s]) => `  ${w.padEnd(32)}  processed ${s.join(', ') || 'nothing'}`),
    `  run time                          ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
  return lines.join('\n');
}

export async function demoCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      shards: { type: 'string' },
      rate: { type: 'string' },
      keys: { type: 'string' },
      fanout: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      ...CONNECTION_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    io.out(`${DEMO_USAGE}\n`);
    return 0;
  }
  const connection = values.endpoint !== undefined || values.region !== undefined || values.profile !== undefined ? connectionOptions(values) : undefined;
  const report = await runDemo(
    {
      ...(connection ? { connection } : {}),
      durationMs: flagInRange(values.duration, '--duration', 'durationMs', 1000, ' s'),
      shards: flagInRange(values.shards, '--shards', 'shards'),
      ratePerSecond: flagInRange(values.rate, '--rate', 'ratePerSecond', 1, ' records/s'),
      keys: flagInRange(values.keys, '--keys', 'keys'),
      fanout: values.fanout,
      keepResources: values.keep,
    },
    // With --json, stdout carries the report alone.
    { log: (line) => (values.json ? io.err(`${line}\n`) : io.out(`${line}\n`)) },
    io.signal,
  );
  io.out(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  if (report.interrupted) return 130;
  return report.passed ? 0 : 1;
}
