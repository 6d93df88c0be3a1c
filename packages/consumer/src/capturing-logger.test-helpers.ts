import type { Logger } from '@kinesis-kit/core';

/** A logger that keeps the info and warning messages (debug and error dropped), for tests that check what was said. */
export function capturingLogger(): { logger: Logger; warnings: string[]; infos: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  const noop = (): void => {};
  return {
    warnings,
    infos,
    logger: { debug: noop, error: noop, info: (_fields, message) => infos.push(message ?? ''), warn: (_fields, message) => warnings.push(message ?? '') },
  };
}
