/** Stable codes of the mock package's own errors (not the AWS error names it sends to clients). */
export const MockErrorCode = {
  INVALID_OPTION: 'INVALID_OPTION',
  SERVICE_ERROR: 'SERVICE_ERROR',
  SERVER_CLOSED: 'SERVER_CLOSED',
} as const;
export type MockErrorCode = (typeof MockErrorCode)[keyof typeof MockErrorCode];

/** Root of every error thrown by @kinesis-kit/mock. */
export class MockError extends Error {
  override name = 'MockError';
  readonly retriable: boolean;
  readonly field: string | undefined;
  constructor(
    readonly code: MockErrorCode,
    message: string,
    options?: ErrorOptions & { field?: string; retriable?: boolean },
  ) {
    super(message, options);
    this.field = options?.field;
    this.retriable = options?.retriable ?? false;
  }
}

/** A bad option passed to startMockServer or the CLI; `field` names it. */
export class MockConfigError extends MockError {
  override name = 'MockConfigError';
  constructor(field: string, message: string) {
    super(MockErrorCode.INVALID_OPTION, `${field}: ${message}`, { field });
  }
}

/** AWS error names the mock answers with (the `__type` of the JSON error body). */
export const AwsErrorName = {
  VALIDATION: 'ValidationException',
  INVALID_ARGUMENT: 'InvalidArgumentException',
  RESOURCE_NOT_FOUND: 'ResourceNotFoundException',
  RESOURCE_IN_USE: 'ResourceInUseException',
  LIMIT_EXCEEDED: 'LimitExceededException',
  THROUGHPUT_EXCEEDED: 'ProvisionedThroughputExceededException',
  EXPIRED_ITERATOR: 'ExpiredIteratorException',
  EXPIRED_NEXT_TOKEN: 'ExpiredNextTokenException',
  SERIALIZATION: 'SerializationException',
  UNKNOWN_OPERATION: 'UnknownOperationException',
  INTERNAL_FAILURE: 'InternalFailureException',
  MISSING_AUTHENTICATION_TOKEN: 'MissingAuthenticationTokenException',
  UNRECOGNIZED_CLIENT: 'UnrecognizedClientException',
  INVALID_SIGNATURE: 'InvalidSignatureException',
  INCOMPLETE_SIGNATURE: 'IncompleteSignatureException',
} as const;

/**
 * An error the emulated service returns to the client: becomes an HTTP 4xx/5xx with body
 * `{"__type": awsName, "message": ...}`. Thrown by the engine, turned into a response by the router.
 */
export class ServiceError extends MockError {
  override name = 'ServiceError';
  constructor(
    readonly awsName: string,
    message: string,
    readonly statusCode = 400,
    context?: { streamName?: string; shardId?: string },
  ) {
    super(MockErrorCode.SERVICE_ERROR, message, { retriable: statusCode >= 500 || awsName === AwsErrorName.THROUGHPUT_EXCEEDED });
    this.streamName = context?.streamName;
    this.shardId = context?.shardId;
  }
  readonly streamName: string | undefined;
  readonly shardId: string | undefined;
}

export const validationError = (message: string): ServiceError => new ServiceError(AwsErrorName.VALIDATION, message);
export const invalidArgument = (message: string): ServiceError => new ServiceError(AwsErrorName.INVALID_ARGUMENT, message);
export const resourceNotFound = (message: string): ServiceError => new ServiceError(AwsErrorName.RESOURCE_NOT_FOUND, message);
export const resourceInUse = (message: string): ServiceError => new ServiceError(AwsErrorName.RESOURCE_IN_USE, message);
export const limitExceeded = (message: string): ServiceError => new ServiceError(AwsErrorName.LIMIT_EXCEEDED, message);
export const serializationError = (message: string): ServiceError => new ServiceError(AwsErrorName.SERIALIZATION, message);
