/** A failure the CLI explains in one line and exits non-zero for (no stack trace). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    /** 2 = bad usage, 1 = the operation failed. */
    readonly exitCode: 1 | 2 = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  cause?: unknown;
}

/**
 * Turns what the SDK, Node's sockets and our packages throw into a sentence a user can act on:
 * a missing stream, missing credentials and an unreachable endpoint are the usual three.
 */
export function describeError(err: unknown, context: { endpoint?: string; streamName?: string } = {}): string {
  if (err instanceof CliError) return err.message;
  const chain = errorChain(err);
  for (const e of chain) {
    if (e.name === 'ResourceNotFoundException') {
      return context.streamName !== undefined
        ? `stream "${context.streamName}" was not found (${e.message ?? 'ResourceNotFoundException'})`
        : `resource not found: ${e.message ?? ''}`;
    }
    if (e.name === 'CredentialsProviderError' || /Could not load credentials/i.test(e.message ?? '')) {
      return 'no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or pass --profile';
    }
    if (/^Region is missing/.test(e.message ?? '')) {
      return 'no AWS region: pass --region or set AWS_REGION (or a region in the profile)';
    }
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' || e.code === 'ECONNRESET') {
      return `cannot reach ${context.endpoint ?? 'the AWS endpoint'} (${e.code})`;
    }
    if (e.name === 'ValidationException' || e.name === 'InvalidArgumentException') {
      return `rejected by Kinesis: ${e.message ?? e.name}`;
    }
    if (e.name === 'AccessDeniedException' || e.name === 'UnrecognizedClientException') {
      return `access denied: ${e.message ?? e.name}`;
    }
  }
  const first = chain[0];
  return first?.message ?? String(err);
}

function errorChain(err: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let current: unknown = err;
  while (current !== null && typeof current === 'object' && chain.length < 8) {
    const e = current as ErrorLike;
    chain.push(e);
    if (e instanceof AggregateError) chain.push(...(e.errors as ErrorLike[]));
    current = e.cause;
  }
  return chain;
}
