import { randomUUID } from 'node:crypto';
import { UsageError } from './cli-error.js';

export interface LineRecord {
  partitionKey: string;
  data: Uint8Array;
  explicitHashKey?: string;
}

export type LineFormat = 'text' | 'json';

export class BadLineError extends UsageError {
  constructor(
    readonly lineNumber: number,
    /** What is wrong with the line, without its number. */
    readonly reason: string,
  ) {
    super(`line ${lineNumber}: ${reason}`);
  }
}

/**
 * One input line to one record. Text: the line is the data (its bytes as they are); the key is
 * `fixedKey` or a random UUID (spreads lines over shards). JSON (UTF-8): `{"key": "...", "data":
 * <string | any JSON>, "explicitHashKey"?: "..."}`; non-string data is written as its JSON text.
 */
export function parseInputLine(line: string | Uint8Array, lineNumber: number, format: LineFormat, fixedKey?: string): LineRecord {
  if (format === 'text') return { partitionKey: fixedKey ?? randomUUID(), data: typeof line === 'string' ? Buffer.from(line, 'utf8') : line };
  let value: unknown;
  try {
    value = JSON.parse(typeof line === 'string' ? line : Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8'));
  } catch {
    throw new BadLineError(lineNumber, 'not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadLineError(lineNumber, 'expected a JSON object {"key", "data"}');
  const { key, data, explicitHashKey } = value as Record<string, unknown>;
  const partitionKey = typeof key === 'string' ? key : (fixedKey ?? undefined);
  if (partitionKey === undefined) throw new BadLineError(lineNumber, '"key" must be a string');
  if (data === undefined) throw new BadLineError(lineNumber, '"data" is missing');
  if (explicitHashKey !== undefined && typeof explicitHashKey !== 'string') throw new BadLineError(lineNumber, '"explicitHashKey" must be a decimal string');
  return {
    partitionKey,
    data: Buffer.from(typeof data === 'string' ? data : JSON.stringify(data), 'utf8'),
    ...(explicitHashKey !== undefined ? { explicitHashKey } : {}),
  };
}
