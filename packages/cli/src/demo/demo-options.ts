import type { ConnectionOptions } from '../aws-clients.js';
import { UsageError } from '../cli-error.js';

export interface DemoOptions {
  /** An external endpoint (LocalStack, real AWS); absent = the embedded mock. */
  connection?: ConnectionOptions;
  /** How long the producer writes. Default 20 s. */
  durationMs?: number;
  /** Shards of the demo stream. Default 4. */
  shards?: number;
  /** Enhanced fan-out instead of polling. */
  fanout?: boolean;
  /** User records per second. Default 1000. */
  ratePerSecond?: number;
  /** Distinct partition keys. Default 200. */
  keys?: number;
  /** Milliseconds between progress reports (0 = none). Default 2000. */
  progressIntervalMs?: number;
  /** How long to wait after the last put for the consumers to catch up. Default 60 s. */
  drainTimeoutMs?: number;
  /** Lease failover time for the two workers: shorter than the KCL's 10 s so takeovers show. Default 4000. */
  failoverTimeMillis?: number;
  /** Stream (and application) name; default `kinesis-kit-demo-<random>`. */
  streamName?: string;
  /** Keep the stream and lease table on an external endpoint at the end (they are deleted by default). */
  keepResources?: boolean;
}

export const DEMO_DEFAULTS = {
  durationMs: 20_000,
  shards: 4,
  fanout: false,
  ratePerSecond: 1000,
  keys: 200,
  progressIntervalMs: 2000,
  drainTimeoutMs: 60_000,
  failoverTimeMillis: 4000,
  keepResources: false,
} as const;

export type ResolvedDemoOptions = Required<Omit<DemoOptions, 'connection'>> & { connection?: ConnectionOptions };

export function resolveDemoOptions(options: DemoOptions): ResolvedDemoOptions {
  const int = (name: keyof typeof DEMO_DEFAULTS, value: number | undefined, min: number, max: number): number => {
    const v = value ?? (DEMO_DEFAULTS[name] as number);
    if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`--${name}: must be between ${min} and ${max}, got ${v}`);
    return v;
  };
  return {
    ...(options.connection ? { connection: options.connection } : {}),
    durationMs: int('durationMs', options.durationMs, 1000, 3_600_000),
    shards: Math.floor(int('shards', options.shards, 1, 64)),
    fanout: options.fanout ?? DEMO_DEFAULTS.fanout,
    ratePerSecond: int('ratePerSecond', options.ratePerSecond, 1, 100_000),
    keys: Math.floor(int('keys', options.keys, 1, 100_000)),
    progressIntervalMs: int('progressIntervalMs', options.progressIntervalMs, 0, 3_600_000),
    drainTimeoutMs: int('drainTimeoutMs', options.drainTimeoutMs, 1000, 3_600_000),
    failoverTimeMillis: int('failoverTimeMillis', options.failoverTimeMillis, 1000, 600_000),
    streamName: options.streamName ?? `kinesis-kit-demo-${Math.random().toString(36).slice(2, 8)}`,
    keepResources: options.keepResources ?? DEMO_DEFAULTS.keepResources,
  };
}
