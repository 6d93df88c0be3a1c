import { childLogger, sharedAbortController } from '@kinesis-kit/core';
import { EmbeddedDynamo } from './dynamodb.js';
import { KinesisEngine } from './engine.js';
import { MockError, MockErrorCode } from './errors.js';
import { FaultInjector, type FaultConfig } from './faults.js';
import { resolveLimits, type Limits } from './limits.js';
import { resolveMockServerOptions, type MockServerOptions, type ResolvedMockServerOptions } from './options.js';
import { Router } from './router.js';
import { SubscriptionManager, type EndSubscriptionsOptions } from './subscriptions.js';
import { Transport } from './transport.js';

export interface MockCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What an AWS SDK v3 client needs to talk to the mock: `new KinesisClient(server.clientConfig())`. */
export interface MockClientConfig {
  endpoint: string;
  region: string;
  credentials: MockCredentials;
}

/** A running mock: Kinesis and DynamoDB on one local endpoint. */
export class MockServer {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: MockCredentials;
  readonly host: string;
  readonly port: number;
  private closing: Promise<void> | undefined;

  /** @internal use startMockServer() */
  constructor(
    /** The Kinesis engine, for inspection and direct inserts in tests and benchmarks. */
    readonly engine: KinesisEngine,
    private readonly transport: Transport,
    private readonly faults: FaultInjector,
    private readonly subscriptions: SubscriptionManager,
    private readonly abort: AbortController,
    options: ResolvedMockServerOptions,
  ) {
    this.host = options.host;
    this.port = transport.port;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    this.endpoint = `${options.tls ? 'https' : 'http'}://${host}:${transport.port}`;
    this.region = options.region;
    this.credentials = { ...options.credentials };
  }

  clientConfig(): MockClientConfig {
    return { endpoint: this.endpoint, region: this.region, credentials: { ...this.credentials } };
  }

  /** Replaces the fault rules (an empty rule list turns faults off). */
  setFaults(config: FaultConfig | undefined): void {
    this.faults.set(config ?? { rules: [] });
  }

  /** Replaces the limits (over the defaults; false = none). Existing shards pick them up at once. */
  setLimits(limits: false | Partial<Limits>): void {
    this.engine.setLimits(resolveLimits(limits));
  }

  get limits(): Readonly<Limits> {
    return this.engine.limits;
  }

  /** Duration of subscriptions started from now on. */
  get subscriptionDurationMs(): number {
    return this.subscriptions.settings.durationMs;
  }

  set subscriptionDurationMs(ms: number) {
    if (!(ms > 0)) throw new MockError(MockErrorCode.INVALID_OPTION, 'subscriptionDurationMs must be > 0', { field: 'subscriptionDurationMs' });
    this.subscriptions.settings.durationMs = ms;
  }

  /** Active SubscribeToShard subscriptions. */
  get activeSubscriptions(): number {
    return this.subscriptions.count;
  }

  /**
   * Ends active subscriptions (all, or those matching stream/shard/consumer): cleanly, with an
   * exception frame (`error`), or by dropping the connection (`abort`). Returns how many ended.
   */
  endSubscriptions(options?: EndSubscriptionsOptions): number {
    return this.subscriptions.end(options);
  }

  /** Stops serving and releases everything: sockets, sessions, timers, subscriptions. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.abort.abort();
      this.subscriptions.closeAll();
      this.engine.close();
      await this.transport.close();
    })();
    return this.closing;
  }
}

/** Starts a mock Kinesis (+ DynamoDB) server. `port: 0` (the default) picks a free port. */
export async function startMockServer(options?: MockServerOptions): Promise<MockServer> {
  const resolved = resolveMockServerOptions(options);
  const logger = childLogger(resolved.logger, { component: 'kinesis-kit-mock' });
  const engine = new KinesisEngine({
    clock: resolved.clock,
    limits: resolved.limits,
    region: resolved.region,
    accountId: resolved.accountId,
    createStreamDelayMs: 0,
    deleteStreamDelayMs: resolved.deleteStreamDelayMs,
    updateStreamDelayMs: resolved.updateStreamDelayMs,
    consumerActivationDelayMs: resolved.consumerActivationDelayMs,
    logger,
  });
  for (const s of resolved.streams) engine.createStream(s.name, s.shardCount, s.mode ?? 'PROVISIONED');
  engine.createStreamDelayMs = resolved.createStreamDelayMs;

  const faults = new FaultInjector(resolved.clock, resolved.faults, resolved.seed);
  const subscriptions = new SubscriptionManager(
    engine,
    { durationMs: resolved.subscriptionDurationMs, heartbeatMs: resolved.subscriptionHeartbeatMs, cooldownMs: resolved.subscribeCooldownMs },
    logger,
  );
  engine.onStreamDeleted = (stream) => subscriptions.endForStream(stream);
  engine.onConsumerDeleted = (consumer) => subscriptions.endForConsumer(consumer);
  // Every request waiting in a latency fault listens on it: many in flight is normal, not a leak.
  const abort = sharedAbortController();
  const router = new Router({
    engine,
    faults,
    subscriptions,
    dynamo: resolved.dynamodb ? new EmbeddedDynamo() : undefined,
    auth: resolved.auth,
    logger,
    clock: resolved.clock,
    maxRequestBytes: resolved.maxRequestBytes,
    signal: abort.signal,
  });
  const transport = new Transport({ host: resolved.host, port: resolved.port, tls: resolved.tls, handler: router.handle });
  try {
    await transport.listen();
  } catch (err) {
    engine.close();
    throw err;
  }
  logger.info({ port: transport.port, host: resolved.host }, 'mock server listening');
  return new MockServer(engine, transport, faults, subscriptions, abort, resolved);
}
