import {
  DeregisterStreamConsumerCommand,
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  RegisterStreamConsumerCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { backoffDelay, classifyAwsError, sleep, type Clock, type Logger } from '@kinesis-kit/core';
import { describeStreamRef, type StreamRef } from '../consumer/stream-ref.js';
import { FanOutRegistrationError } from '../errors.js';

export interface StreamConsumerContext {
  kinesis: KinesisClient;
  stream: StreamRef;
  /** Registered consumer name (KCL: FanOutConfig.consumerName, default the application name). */
  consumerName: string;
  clock: Clock;
  random: () => number;
  logger: Logger;
  /** How long to wait for a new consumer to become ACTIVE (KCL: 10 describes, 1 s apart). Default 30000. */
  activationTimeoutMillis?: number;
  signal?: AbortSignal;
}

/** The stream's ARN (SubscribeToShard and the consumer APIs need it). */
export async function resolveStreamArn(kinesis: KinesisClient, stream: StreamRef, signal?: AbortSignal): Promise<string> {
  if (stream.StreamARN) return stream.StreamARN;
  const out = await kinesis.send(new DescribeStreamSummaryCommand({ ...stream }), signal ? { abortSignal: signal } : {});
  const arn = out.StreamDescriptionSummary?.StreamARN;
  if (!arn) throw new FanOutRegistrationError(describeStreamRef(stream), 'DescribeStreamSummary returned no StreamARN', false);
  return arn;
}

/**
 * Finds the stream consumer, registers it if missing, and waits until it is ACTIVE (as the KCL's
 * FanOutConsumerRegistration does). Never deregisters. Returns its ARN.
 */
export async function ensureStreamConsumer(ctx: StreamConsumerContext): Promise<string> {
  const { kinesis, consumerName, clock } = ctx;
  const opts = ctx.signal ? { abortSignal: ctx.signal } : {};
  const streamArn = await resolveStreamArn(kinesis, ctx.stream, ctx.signal);
  const deadline = clock.monotonic() + (ctx.activationTimeoutMillis ?? 30_000);
  for (let attempt = 1; ; attempt++) {
    try {
      const described = await kinesis.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: consumerName }), opts);
      const c = described.ConsumerDescription;
      if (c?.ConsumerStatus === 'ACTIVE' && c.ConsumerARN) return c.ConsumerARN;
      if (c?.ConsumerStatus === 'DELETING') ctx.logger.info({ consumerName }, 'stream consumer is being deleted; waiting to register it again');
    } catch (err) {
      const c = classifyAwsError(err);
      if (c.code === 'ResourceNotFoundException') {
        await register(ctx, streamArn, opts);
      } else if (!c.retriable && c.code !== 'LimitExceededException') {
        throw new FanOutRegistrationError(streamArn, `${c.code}: ${c.message}`, false, { cause: err });
      }
    }
    if (clock.monotonic() > deadline) {
      throw new FanOutRegistrationError(streamArn, `consumer ${consumerName} did not become ACTIVE in time`, true);
    }
    await sleep(Math.min(1_000, backoffDelay(attempt, { baseMs: 100, maxMs: 1_000, jitter: 'equal', random: ctx.random })), ctx.signal, clock);
  }
}

async function register(ctx: StreamConsumerContext, streamArn: string, opts: { abortSignal?: AbortSignal }): Promise<void> {
  try {
    await ctx.kinesis.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: ctx.consumerName }), opts);
    ctx.logger.info({ consumerName: ctx.consumerName }, 'registered the stream consumer');
  } catch (err) {
    const c = classifyAwsError(err);
    // Another worker registered it at the same time (ResourceInUse), or too many calls (LimitExceeded): describe again.
    if (c.code === 'ResourceInUseException' || c.code === 'LimitExceededException' || c.retriable) return;
    throw new FanOutRegistrationError(streamArn, `${c.code}: ${c.message}`, false, { cause: err });
  }
}

/**
 * Deregisters the application's stream consumer (the consumer never does this by itself: other
 * workers of the application may still use it). For teardown scripts and tests.
 */
export async function deregisterStreamConsumer(kinesis: KinesisClient, options: { consumerArn: string } | { stream: StreamRef; consumerName: string }): Promise<void> {
  if ('consumerArn' in options) {
    await kinesis.send(new DeregisterStreamConsumerCommand({ ConsumerARN: options.consumerArn }));
    return;
  }
  const streamArn = await resolveStreamArn(kinesis, options.stream);
  await kinesis.send(new DeregisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: options.consumerName }));
}
