/**
 * Kinesis names and ARNs as the producer, the consumer and the CLI check them before any call, so
 * a typo fails at construction with the option's name instead of on the first request.
 */

/** Which stream: exactly one of `streamName` and `streamArn` (the type refuses both or neither). */
export type StreamSelector = { streamName: string; streamArn?: undefined } | { streamArn: string; streamName?: undefined };

/** Stream and stream-consumer names: 1..128 of a-z A-Z 0-9 _ . - (the service's rule). */
export const KINESIS_NAME_PATTERN = /^[a-zA-Z0-9_.-]{1,128}$/;

/** `arn:<partition>:kinesis:<region>:<12-digit account>:stream/<name>`. */
export const STREAM_ARN_PATTERN = /^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/[a-zA-Z0-9_.-]{1,128}$/;

/** A registered fan-out consumer: `<stream ARN>/consumer/<name>:<creation timestamp>`. */
export const STREAM_CONSUMER_ARN_PATTERN =
  /^(arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\d{12}:stream\/[a-zA-Z0-9_.-]{1,128})\/consumer\/([a-zA-Z0-9_.-]{1,128}):(\d+)$/;

/** A stream consumer ARN taken apart. */
export interface StreamConsumerArnParts {
  streamArn: string;
  consumerName: string;
  /** When the consumer was registered, epoch seconds: a consumer registered again under the same name gets a later one. */
  createdAtSeconds: number;
}

export function isKinesisName(value: unknown): value is string {
  return typeof value === 'string' && KINESIS_NAME_PATTERN.test(value);
}

export function isStreamArn(value: unknown): value is string {
  return typeof value === 'string' && STREAM_ARN_PATTERN.test(value);
}

export function isStreamConsumerArn(value: unknown): value is string {
  return typeof value === 'string' && STREAM_CONSUMER_ARN_PATTERN.test(value);
}

/** The parts of a stream consumer ARN, or undefined when `value` is not one. */
export function parseStreamConsumerArn(value: string): StreamConsumerArnParts | undefined {
  const m = STREAM_CONSUMER_ARN_PATTERN.exec(value);
  return m ? { streamArn: m[1]!, consumerName: m[2]!, createdAtSeconds: Number(m[3]) } : undefined;
}

/** The stream name inside a stream ARN (whatever follows the last `/`). */
export function streamNameOfArn(streamArn: string): string {
  return streamArn.slice(streamArn.lastIndexOf('/') + 1);
}
