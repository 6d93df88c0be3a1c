import { AggregationError, AggregationErrorCode, InvalidDataError } from './errors.js';
import { canonicalExplicitHashKey, validatePartitionKey } from './hash-key.js';

/** A user record as given to encodeAggregatedRecord and RecordAggregator. */
export interface UserRecordInput {
  /** 1..256 characters (UTF-16 units, as the KPL counts), well-formed Unicode. */
  partitionKey: string;
  /** Decimal integer in [0, 2^128-1], read as the KPL reads it (trimmed, optional sign, leading zeros); written in canonical form. */
  explicitHashKey?: string;
  data: Uint8Array;
}

/**
 * Validates a user record (throws InvalidPartitionKeyError, InvalidExplicitHashKeyError or
 * InvalidDataError) and returns its explicit hash key in the form the KPL writes, or undefined.
 * `null` explicit hash keys count as absent.
 */
export function validateUserRecordInput(record: UserRecordInput): string | undefined {
  const explicitHashKey = validateRecordExceptPartitionKey(record);
  validatePartitionKey(record.partitionKey);
  return explicitHashKey;
}

/**
 * validateUserRecordInput without the partition key check, for the hot paths where
 * ContainerBuilder validates each partition key the first time it meets it.
 */
export function validateRecordExceptPartitionKey(record: UserRecordInput): string | undefined {
  if (typeof record !== 'object' || record === null) {
    throw new AggregationError(AggregationErrorCode.INVALID_ARGUMENT, 'a user record must be an object', { field: 'record' });
  }
  if (!(record.data instanceof Uint8Array)) {
    throw new InvalidDataError(`data must be a Uint8Array or Buffer, got ${describe(record.data)}`);
  }
  const ehk: unknown = record.explicitHashKey;
  return ehk === undefined || ehk === null ? undefined : canonicalExplicitHashKey(ehk);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value).constructor?.name ?? 'object';
  return typeof value;
}
