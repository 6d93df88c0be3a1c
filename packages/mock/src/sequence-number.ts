/**
 * Sequence numbers shaped like Kinesis's: 56-digit decimals. Ours are
 * `49` + shard index (8 digits) + per-shard counter (46 digits), so they are strictly increasing
 * within a shard, unique across the shards of a stream, and a record's position can be read back
 * from its sequence number without storing the string. Counter 0 is the shard's starting
 * sequence number (before its first record); records are numbered from 1.
 */
const PREFIX = '49';
const SHARD_DIGITS = 8;
const COUNTER_DIGITS = 46;
export const SEQUENCE_NUMBER_LENGTH = PREFIX.length + SHARD_DIGITS + COUNTER_DIGITS;
const COUNTER_START = PREFIX.length + SHARD_DIGITS;
/** Counters are kept as JS numbers; 2^53 records per shard is more than enough. */
const MAX_COUNTER_DIGITS = 15;
const ZEROS = '0'.repeat(COUNTER_DIGITS);

export interface ParsedSequenceNumber {
  shardIndex: number;
  counter: number;
}

/** The prefix shared by every sequence number of one shard (`49` + shard index). */
export function sequenceNumberPrefix(shardIndex: number): string {
  return PREFIX + String(shardIndex).padStart(SHARD_DIGITS, '0');
}

export function formatSequenceNumber(shardIndex: number, counter: number): string {
  return formatWithPrefix(sequenceNumberPrefix(shardIndex), counter);
}

/** Fast path for a hot loop: `prefix` from sequenceNumberPrefix(). */
export function formatWithPrefix(prefix: string, counter: number): string {
  const digits = String(counter);
  return prefix + ZEROS.slice(digits.length) + digits;
}

/** Parses one of our sequence numbers; undefined if it is not one (wrong length, prefix, digits). */
export function parseSequenceNumber(value: string): ParsedSequenceNumber | undefined {
  if (value.length !== SEQUENCE_NUMBER_LENGTH || !value.startsWith(PREFIX) || !/^[0-9]+$/.test(value)) return undefined;
  const counterDigits = value.slice(COUNTER_START);
  const significant = counterDigits.replace(/^0+/, '');
  if (significant.length > MAX_COUNTER_DIGITS) return undefined;
  return { shardIndex: Number(value.slice(PREFIX.length, COUNTER_START)), counter: significant === '' ? 0 : Number(significant) };
}

/** The format AWS accepts in requests: 0 to 128 decimal digits. */
export function isSequenceNumberShape(value: unknown): value is string {
  return typeof value === 'string' && /^(0|[1-9]\d{0,128})$/.test(value);
}
