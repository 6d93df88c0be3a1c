import { seededRandom, type Clock } from '@kinesis-kit/core';
import { AwsErrorName, MockConfigError, ServiceError } from './errors.js';

/**
 * One fault rule. A rule matches requests by service and operation; every matching rule applies
 * (latencies add up, the first error or drop wins). Rates are probabilities in [0, 1], rolled on
 * a PRNG seeded from FaultConfig.seed, so a run is reproducible.
 */
export interface FaultRule {
  /** Operation name ('PutRecords', 'SubscribeToShard', 'PutItem', ...) or '*' (default). */
  operation?: string;
  /** Which API the rule applies to; default 'kinesis'. */
  service?: 'kinesis' | 'dynamodb' | '*';
  /** Share of requests answered with `errorCode`. */
  errorRate?: number;
  /** AWS error name for errorRate; default InternalFailureException (HTTP 500). */
  errorCode?: string;
  /** HTTP status for errorCode; default 500 for InternalFailure/ServiceUnavailable, else 400. */
  statusCode?: number;
  /** Error message for errorCode. */
  message?: string;
  /** Added before the request is handled. */
  latencyMs?: number;
  /** Share of requests whose connection (HTTP/1.1) or stream (HTTP/2) is destroyed without a response. */
  dropConnectionRate?: number;
  /**
   * Throttling. PutRecords: share of entries failed with ProvisionedThroughputExceededException.
   * PutRecord / GetRecords / GetShardIterator / SubscribeToShard: share of calls failed with it.
   * Other Kinesis calls: share failed with LimitExceededException. DynamoDB: ProvisionedThroughputExceededException.
   */
  throttleRate?: number;
  /** SubscribeToShard: chance per pushed event that the stream ends with an exception frame instead. */
  streamErrorRate?: number;
  /** Exception type of that frame; default InternalFailureException. */
  streamErrorCode?: string;
  /** SubscribeToShard: accept, send initial-response, then send nothing (the connection stays open). */
  stall?: boolean;
  /** The rule applies to at most this many matching requests. */
  maxCount?: number;
  /** The rule is active only from this long after the config was set (engine clock)... */
  afterMs?: number;
  /** ...and for this long (throttle storms). */
  durationMs?: number;
}

export interface FaultConfig {
  seed?: number;
  rules: FaultRule[];
}

/** What the router does to one request. */
export interface FaultDecision {
  latencyMs: number;
  drop: boolean;
  error: ServiceError | undefined;
  /** Fails PutRecords entries one by one. */
  throttleEntry: (() => boolean) | undefined;
  stall: boolean;
  streamErrorRate: number;
  streamErrorCode: string;
}

const RATE_FIELDS = ['errorRate', 'dropConnectionRate', 'throttleRate', 'streamErrorRate'] as const;
const THROTTLED_BY_PTE = new Set(['PutRecord', 'GetRecords', 'GetShardIterator', 'SubscribeToShard']);

export const NO_FAULT: FaultDecision = Object.freeze({
  latencyMs: 0,
  drop: false,
  error: undefined,
  throttleEntry: undefined,
  stall: false,
  streamErrorRate: 0,
  streamErrorCode: AwsErrorName.INTERNAL_FAILURE,
});

export function validateFaultConfig(config: FaultConfig): void {
  if (!config || !Array.isArray(config.rules)) throw new MockConfigError('faults.rules', 'must be an array');
  config.rules.forEach((rule, i) => {
    for (const f of RATE_FIELDS) {
      const v = rule[f];
      if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) throw new MockConfigError(`faults.rules[${i}].${f}`, 'must be in [0, 1]');
    }
    for (const f of ['latencyMs', 'maxCount', 'afterMs', 'durationMs'] as const) {
      const v = rule[f];
      if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) throw new MockConfigError(`faults.rules[${i}].${f}`, 'must be a number >= 0');
    }
    if (rule.statusCode !== undefined && !(Number.isInteger(rule.statusCode) && rule.statusCode >= 400 && rule.statusCode <= 599)) {
      throw new MockConfigError(`faults.rules[${i}].statusCode`, 'must be an HTTP error status (400-599)');
    }
  });
}

export class FaultInjector {
  private random: () => number;
  private rules: FaultRule[] = [];
  private counts: number[] = [];
  private setAtMs = 0;

  constructor(
    private readonly clock: Clock,
    config: FaultConfig | undefined,
    private readonly defaultSeed = 1,
  ) {
    this.random = seededRandom(defaultSeed);
    if (config) this.set(config);
  }

  get active(): boolean {
    return this.rules.length > 0;
  }

  /** Replaces the rules (and reseeds the PRNG). */
  set(config: FaultConfig): void {
    validateFaultConfig(config);
    this.rules = config.rules.map((r) => ({ ...r }));
    this.counts = this.rules.map(() => 0);
    this.random = seededRandom(config.seed ?? this.defaultSeed);
    this.setAtMs = this.clock.monotonic();
  }

  decide(service: 'kinesis' | 'dynamodb', operation: string): FaultDecision {
    if (this.rules.length === 0) return NO_FAULT;
    const elapsed = this.clock.monotonic() - this.setAtMs;
    let decision: FaultDecision | undefined;
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      const ruleService = rule.service ?? 'kinesis';
      if (ruleService !== '*' && ruleService !== service) continue;
      if (rule.operation !== undefined && rule.operation !== '*' && rule.operation !== operation) continue;
      const start = rule.afterMs ?? 0;
      if (elapsed < start || (rule.durationMs !== undefined && elapsed >= start + rule.durationMs)) continue;
      if (rule.maxCount !== undefined && this.counts[i]! >= rule.maxCount) continue;
      this.counts[i]!++;
      decision ??= { ...NO_FAULT };
      decision.latencyMs += rule.latencyMs ?? 0;
      if (rule.stall) decision.stall = true;
      if (rule.streamErrorRate) {
        decision.streamErrorRate = Math.max(decision.streamErrorRate, rule.streamErrorRate);
        decision.streamErrorCode = rule.streamErrorCode ?? decision.streamErrorCode;
      }
      if (!decision.drop && !decision.error && rule.dropConnectionRate && this.random() < rule.dropConnectionRate) decision.drop = true;
      if (!decision.drop && !decision.error && rule.errorRate && this.random() < rule.errorRate) {
        const code = rule.errorCode ?? AwsErrorName.INTERNAL_FAILURE;
        const status = rule.statusCode ?? (code === AwsErrorName.INTERNAL_FAILURE || code === 'ServiceUnavailableException' ? (code === AwsErrorName.INTERNAL_FAILURE ? 500 : 503) : 400);
        decision.error = new ServiceError(code, rule.message ?? `Injected fault (${code}).`, status);
      }
      if (rule.throttleRate) {
        const rate = rule.throttleRate;
        if (service === 'kinesis' && operation === 'PutRecords') {
          const previous = decision.throttleEntry;
          decision.throttleEntry = () => (previous?.() ?? false) || this.random() < rate;
        } else if (!decision.drop && !decision.error && this.random() < rate) {
          decision.error = throttleError(service, operation);
        }
      }
    }
    return decision ?? NO_FAULT;
  }

  /** A roll for per-event stream errors. */
  roll(rate: number): boolean {
    return rate > 0 && this.random() < rate;
  }
}

function throttleError(service: 'kinesis' | 'dynamodb', operation: string): ServiceError {
  if (service === 'dynamodb') {
    return new ServiceError(
      'ProvisionedThroughputExceededException',
      'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
    );
  }
  if (THROTTLED_BY_PTE.has(operation)) return new ServiceError(AwsErrorName.THROUGHPUT_EXCEEDED, 'Rate exceeded for shard (injected).');
  return new ServiceError(AwsErrorName.LIMIT_EXCEEDED, `Rate exceeded for ${operation} (injected).`);
}
