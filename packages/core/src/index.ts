export { AbortError, abortReason, isAbortError, linkSignals, sharedAbortController, sleep, throwIfAborted, untilAborted, whenAborted } from './abort.js';
export {
  classifyAwsError,
  NETWORK_ERROR_CODES,
  THROTTLING_ERROR_NAMES,
  TRANSIENT_ERROR_NAMES,
  type AwsErrorKind,
  type ClassifiedAwsError,
} from './aws-errors.js';
export { speaksAwsJson11 } from './aws-json-protocol.js';
export { EVENT_STREAM_CRC_BYTES, EVENT_STREAM_PRELUDE_BYTES, EVENT_STREAM_STRING_TYPE, frameEventStreamMessage } from './event-stream-frame.js';
export { backoffDelay, isRetriable, retry, type BackoffOptions, type RetryOptions } from './backoff.js';
export { ManualClock, MAX_TIMER_DELAY_MS, systemClock, type Clock } from './clock.js';
export { TypedEmitter } from './events.js';
export { activeResources, leakedResources } from './handles.js';
export { childLogger, errorFields, MemoryLogger, silentLogger, type LogEntry, type Logger, type LogLevel } from './logger.js';
export {
  InMemoryMetricsSink,
  noopMetricsSink,
  type MetricDatum,
  type MetricsSink,
  type MetricSummary,
  type MetricUnit,
} from './metrics.js';
export { seededRandom, shuffled } from './random.js';
export { RepeatedLog } from './repeated-log.js';
export { Semaphore } from './semaphore.js';
export { TokenBucket } from './token-bucket.js';
export {
  isKinesisName,
  isStreamArn,
  isStreamConsumerArn,
  KINESIS_NAME_PATTERN,
  parseStreamConsumerArn,
  STREAM_ARN_PATTERN,
  STREAM_CONSUMER_ARN_PATTERN,
  streamNameOfArn,
  type StreamConsumerArnParts,
  type StreamSelector,
} from './stream-names.js';
