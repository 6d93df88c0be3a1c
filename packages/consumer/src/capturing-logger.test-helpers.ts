import type { Logger } from '@kinesis-kit/core';

/** A logger that keeps the warning messages (everything else dropped), for tests that check what was warned. */
export function capturingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const noop = (): void => {};
  return { warnings, logger: { debug: noop, info: noop, error: noop, warn: (_fields, message) => warnings.push(message ?? '') } };
}
