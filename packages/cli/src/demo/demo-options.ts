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

/** The accepted range of each numeric option, in the option's own unit. */
export const DEMO_LIMITS = {
  durationMs: { min: 1000, max: 3_600_000 },
  shards: { min: 1, max: 64 },
  ratePerSecond: { min: 1, max: 100_000 },
  keys: { min: 1, max: 100_000 },
  progressIntervalMs: { min: 0, max: 3_600_000 },
  drainTimeoutMs: { min: 1000, max: 3_600_000 },
  failoverTimeMillis: { min: 1000, max: 600_000 },
} as const;

export type ResolvedDemoOptions = Required<Omit<DemoOptions, 'connection'>> & { connection?: ConnectionOptions };

export function resolveDemoOptions(options: DemoOptions): ResolvedDemoOptions {
  // Named as DemoOptions names them: the command line checks its own flags (in its units) first.
  const int = (name: keyof typeof DEMO_LIMITS, value: number | undefined): number => {
    const v = value ?? DEMO_DEFAULTS[name];
    const { min, max } = DEMO_LIMITS[name];
    if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`${name}: must be between ${min} and ${max}, got ${v}`);
    return v;
  };
  return {
    ...(options.connection ? { connection: options.connection } : {}),
    durationMs: int('durationMs', options.durationMs),
    shards: Math.floor(int('shards', options.shards)),
    fanout: options.fanout ?? DEMO_DEFAULTS.fanout,
    ratePerSecond: int('ratePerSecond', options.ratePerSecond),
    keys: Math.floor(int('keys', options.keys)),
    progressIntervalMs: int('progressIntervalMs', options.progressIntervalMs),
    drainTimeoutMs: int('drainTimeoutMs', options.drainTimeoutMs),
    failoverTimeMillis: int('failoverTimeMillis', options.failoverTimeMillis),
    streamName: options.streamName ?? `kinesis-kit-demo-${Math.random().toString(36).slice(2, 8)}`,
    keepResources: options.keepResources ?? DEMO_DEFAULTS.keepResources,
  };
}
