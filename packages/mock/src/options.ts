import { silentLogger, systemClock, type Clock, type Logger } from '@kinesis-kit/core';
import { MockConfigError } from './errors.js';
import { validateFaultConfig, type FaultConfig } from './faults.js';
import { resolveLimits, type Limits } from './limits.js';
import type { StreamMode } from './model.js';
import type { AuthOptions } from './sigv4.js';

export interface InitialStream {
  name: string;
  /** Shards of a PROVISIONED stream (ON_DEMAND streams get 4). */
  shardCount?: number;
  mode?: StreamMode;
}

export interface MockServerOptions {
  /** TCP port; 0 (default) lets the OS pick a free one. */
  port?: number;
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** Service limits over the defaults, or false to turn the rate limits and quotas off (per-call caps stay: see NO_LIMITS). */
  limits?: false | Partial<Limits>;
  /** Streams created (ACTIVE) before the server starts answering. */
  streams?: InitialStream[];
  /** Fault injection rules (changeable later with setFaults). */
  faults?: FaultConfig;
  /** Seed of the fault-injection PRNG when FaultConfig.seed is not given. */
  seed?: number;
  /** Time a new consumer stays CREATING (and a deregistered one DELETING). */
  consumerActivationDelayMs?: number;
  /** A SubscribeToShard subscription ends (cleanly) after this long; AWS: 5 minutes. */
  subscriptionDurationMs?: number;
  /** An idle subscription gets an empty event this often. */
  subscriptionHeartbeatMs?: number;
  /** A second SubscribeToShard for the same consumer and shard within this window is ResourceInUse; AWS: 5 s. */
  subscribeCooldownMs?: number;
  /** Time a new stream stays CREATING. */
  createStreamDelayMs?: number;
  /** Time a deleted stream stays DELETING. */
  deleteStreamDelayMs?: number;
  /** Time a stream stays UPDATING for resharding, mode and encryption changes. */
  updateStreamDelayMs?: number;
  /** Serve DynamoDB_20120810.* with an embedded in-memory dynalite; default true. */
  dynamodb?: boolean;
  /** Serve TLS (ALPN h2 + http/1.1) with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Check SigV4 signatures against these credentials (off by default). */
  auth?: AuthOptions;
  /** Credentials clientConfig() hands out when `auth` is not set. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  region?: string;
  accountId?: string;
  /** Clock for stream/consumer transitions, rate limits, iterator expiry, retention, subscriptions. */
  clock?: Clock;
  logger?: Logger;
  /** Largest request body accepted. */
  maxRequestBytes?: number;
}

export const DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  seed: 1,
  consumerActivationDelayMs: 0,
  subscriptionDurationMs: 300_000,
  subscriptionHeartbeatMs: 5_000,
  subscribeCooldownMs: 5_000,
  createStreamDelayMs: 0,
  deleteStreamDelayMs: 0,
  updateStreamDelayMs: 0,
  dynamodb: true,
  region: 'us-east-1',
  accountId: '000000000000',
  accessKeyId: 'AKIDMOCKKINESISKIT',
  secretAccessKey: 'mock-secret-access-key',
  maxRequestBytes: 32 * 1024 * 1024,
} as const;

export interface ResolvedMockServerOptions {
  port: number;
  host: string;
  limits: Limits;
  streams: InitialStream[];
  faults: FaultConfig | undefined;
  seed: number;
  consumerActivationDelayMs: number;
  subscriptionDurationMs: number;
  subscriptionHeartbeatMs: number;
  subscribeCooldownMs: number;
  createStreamDelayMs: number;
  deleteStreamDelayMs: number;
  updateStreamDelayMs: number;
  dynamodb: boolean;
  tls: { key: string | Buffer; cert: string | Buffer } | undefined;
  auth: AuthOptions | undefined;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  accountId: string;
  clock: Clock;
  logger: Logger;
  maxRequestBytes: number;
}

function nonNegative(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) throw new MockConfigError(field, `must be a number >= 0, got ${String(value)}`);
  return value;
}

function positive(field: string, value: number | undefined, fallback: number): number {
  const v = nonNegative(field, value, fallback);
  if (v === 0) throw new MockConfigError(field, 'must be > 0');
  return v;
}

/** Validates options once and fills in the defaults. */
export function resolveMockServerOptions(options: MockServerOptions = {}): ResolvedMockServerOptions {
  const port = nonNegative('port', options.port, DEFAULTS.port);
  if (!Number.isInteger(port) || port > 65535) throw new MockConfigError('port', `must be an integer in 0..65535, got ${port}`);
  if (options.faults) validateFaultConfig(options.faults);
  const streams = options.streams ?? [];
  const names = new Set<string>();
  streams.forEach((s, i) => {
    if (!s || typeof s.name !== 'string' || !/^[a-zA-Z0-9_.-]{1,128}$/.test(s.name)) throw new MockConfigError(`streams[${i}].name`, 'must match [a-zA-Z0-9_.-]{1,128}');
    if (names.has(s.name)) throw new MockConfigError(`streams[${i}].name`, `duplicate stream ${s.name}`);
    names.add(s.name);
    const mode = s.mode ?? 'PROVISIONED';
    if (mode !== 'PROVISIONED' && mode !== 'ON_DEMAND') throw new MockConfigError(`streams[${i}].mode`, 'must be PROVISIONED or ON_DEMAND');
    if (mode === 'PROVISIONED' && !(Number.isInteger(s.shardCount) && s.shardCount! >= 1)) {
      throw new MockConfigError(`streams[${i}].shardCount`, 'must be an integer >= 1');
    }
  });
  if (options.tls && (!options.tls.key || !options.tls.cert)) throw new MockConfigError('tls', 'needs both key and cert');
  if (options.auth && (!options.auth.accessKeyId || !options.auth.secretAccessKey)) {
    throw new MockConfigError('auth', 'needs accessKeyId and secretAccessKey');
  }
  const credentials = options.auth
    ? { accessKeyId: options.auth.accessKeyId, secretAccessKey: options.auth.secretAccessKey }
    : (options.credentials ?? { accessKeyId: DEFAULTS.accessKeyId, secretAccessKey: DEFAULTS.secretAccessKey });
  const accountId = options.accountId ?? DEFAULTS.accountId;
  if (!/^\d{12}$/.test(accountId)) throw new MockConfigError('accountId', 'must be 12 digits');
  return {
    port,
    host: options.host ?? DEFAULTS.host,
    limits: resolveLimits(options.limits),
    streams,
    faults: options.faults,
    seed: options.seed ?? DEFAULTS.seed,
    consumerActivationDelayMs: nonNegative('consumerActivationDelayMs', options.consumerActivationDelayMs, DEFAULTS.consumerActivationDelayMs),
    subscriptionDurationMs: positive('subscriptionDurationMs', options.subscriptionDurationMs, DEFAULTS.subscriptionDurationMs),
    subscriptionHeartbeatMs: positive('subscriptionHeartbeatMs', options.subscriptionHeartbeatMs, DEFAULTS.subscriptionHeartbeatMs),
    subscribeCooldownMs: nonNegative('subscribeCooldownMs', options.subscribeCooldownMs, DEFAULTS.subscribeCooldownMs),
    createStreamDelayMs: nonNegative('createStreamDelayMs', options.createStreamDelayMs, DEFAULTS.createStreamDelayMs),
    deleteStreamDelayMs: nonNegative('deleteStreamDelayMs', options.deleteStreamDelayMs, DEFAULTS.deleteStreamDelayMs),
    updateStreamDelayMs: nonNegative('updateStreamDelayMs', options.updateStreamDelayMs, DEFAULTS.updateStreamDelayMs),
    dynamodb: options.dynamodb ?? DEFAULTS.dynamodb,
    tls: options.tls,
    auth: options.auth,
    credentials,
    region: options.region ?? DEFAULTS.region,
    accountId,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    maxRequestBytes: positive('maxRequestBytes', options.maxRequestBytes, DEFAULTS.maxRequestBytes),
  };
}
