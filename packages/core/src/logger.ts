/**
 * Logger adapter. The method shape is pino's (`logger.info(fields, message)`), so a pino
 * logger (or a pino child) can be passed as-is; anything else can be adapted in a few lines.
 * Libraries log structured fields only: never credentials and never record payloads.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message?: string): void;
  info(fields: Record<string, unknown>, message?: string): void;
  warn(fields: Record<string, unknown>, message?: string): void;
  error(fields: Record<string, unknown>, message?: string): void;
}

const noop = (): void => {};

/** The default: libraries are silent unless the application hands them a logger. */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** Adds fixed fields (component, shardId, ...) to every entry, like pino's `child()`. */
export function childLogger(parent: Logger, bindings: Record<string, unknown>): Logger {
  if (parent === silentLogger) return parent;
  const bind =
    (level: keyof Logger) =>
    (fields: Record<string, unknown>, message?: string): void => {
      parent[level]({ ...bindings, ...fields }, message);
    };
  return { debug: bind('debug'), info: bind('info'), warn: bind('warn'), error: bind('error') };
}

export type LogLevel = keyof Logger;

export interface LogEntry {
  level: LogLevel;
  fields: Record<string, unknown>;
  message?: string;
}

/** Keeps entries in memory; for tests and for `--verbose` style debugging. */
export class MemoryLogger implements Logger {
  readonly entries: LogEntry[] = [];
  debug(fields: Record<string, unknown>, message?: string): void {
    this.entries.push({ level: 'debug', fields, message });
  }
  info(fields: Record<string, unknown>, message?: string): void {
    this.entries.push({ level: 'info', fields, message });
  }
  warn(fields: Record<string, unknown>, message?: string): void {
    this.entries.push({ level: 'warn', fields, message });
  }
  error(fields: Record<string, unknown>, message?: string): void {
    this.entries.push({ level: 'error', fields, message });
  }
}

/** Serialises an unknown error for a log entry without dumping request payloads. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { err: { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) } };
  }
  return { err: { message: String(err) } };
}
