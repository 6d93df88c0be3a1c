/**
 * Classification of AWS SDK errors (by `name`, which the SDK takes from the service's `__type`)
 * into throttling, transient and permanent, shared by the producer and the consumer.
 */
export const THROTTLING_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'KMSThrottlingException',
  'TransactionInProgressException',
]);

export const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'InternalFailure',
  'InternalFailureException',
  'InternalServerError',
  'InternalServerErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'KMSInternalException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ExpiredIteratorException',
  'ItemCollectionSizeLimitExceededException',
]);

/** Node/socket error codes that mean the request may or may not have reached the server. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_ERROR',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

export type AwsErrorKind = 'throttling' | 'transient' | 'network' | 'permanent';

export interface ClassifiedAwsError {
  kind: AwsErrorKind;
  /** The AWS error code (exception name) or the socket error code. */
  code: string;
  message: string;
  httpStatus?: number;
  retriable: boolean;
}

/** What an AWS SDK v3 client built without a region throws (a plain Error) on every call. */
const SDK_REGION_MISSING = 'Region is missing';

/** Classifies anything thrown by an AWS SDK v3 client call. */
export function classifyAwsError(err: unknown): ClassifiedAwsError {
  const e = (err ?? {}) as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    $metadata?: { httpStatusCode?: number };
    $retryable?: { throttling?: boolean };
  };
  const name = typeof e.name === 'string' ? e.name : 'UnknownError';
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const httpStatus = e.$metadata?.httpStatusCode;
  const status = httpStatus !== undefined ? { httpStatus } : {};
  if (THROTTLING_ERROR_NAMES.has(name) || e.$retryable?.throttling === true || httpStatus === 429) {
    return { kind: 'throttling', code: name, message, retriable: true, ...status };
  }
  if (code !== undefined && NETWORK_ERROR_CODES.has(code)) {
    return { kind: 'network', code, message, retriable: true, ...status };
  }
  if (TRANSIENT_ERROR_NAMES.has(name) || (httpStatus !== undefined && httpStatus >= 500) || name === 'AbortError') {
    return { kind: 'transient', code: name, message, retriable: true, ...status };
  }
  if (httpStatus === undefined && name === 'Error' && message === SDK_REGION_MISSING) {
    // The client has no region: every call fails the same way until it is configured.
    return { kind: 'permanent', code: 'RegionMissing', message, retriable: false };
  }
  if (httpStatus === undefined && (name === 'Error' || name === 'UnknownError' || name === 'TypeError' || code !== undefined)) {
    // No HTTP response at all: the connection failed in a way Node did not label. Treat as network.
    return { kind: 'network', code: code ?? name, message, retriable: true };
  }
  return { kind: 'permanent', code: name, message, retriable: false, ...status };
}
