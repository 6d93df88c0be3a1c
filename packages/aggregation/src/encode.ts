import { ContainerBuilder } from './container-builder.js';
import { AggregationError, AggregationErrorCode } from './errors.js';
import { validateRecordExceptPartitionKey, type UserRecordInput } from './user-record-input.js';

/**
 * One builder for every call: it remembers the partition keys it has validated and measured (a
 * bounded set) and keeps its index arrays, so a call costs no per-key validation or allocation
 * beyond the output. Encoding is synchronous; a re-entrant call (from a getter on a record) gets
 * a fresh builder.
 */
const shared = new ContainerBuilder();
let sharedInUse = false;

/**
 * Encodes user records as one KPL aggregated record: magic `F3 89 9A C2`, the protobuf
 * AggregatedRecord, then the MD5 of the protobuf bytes. The bytes are identical to what the KPL
 * writes for the same records. Always writes the envelope, even for one record (RecordAggregator
 * is what sends a lone record raw, as the KPL does). Throws on invalid records or an empty list;
 * no size limit is applied here.
 */
export function encodeAggregatedRecord(records: readonly UserRecordInput[]): Uint8Array {
  if (!isNonEmptyArray(records)) {
    throw new AggregationError(AggregationErrorCode.INVALID_ARGUMENT, 'records must be a non-empty array', { field: 'records' });
  }
  if (sharedInUse) return encodeWith(new ContainerBuilder(), records);
  sharedInUse = true;
  try {
    return encodeWith(shared, records);
  } finally {
    shared.reset();
    sharedInUse = false;
  }
}

function encodeWith(builder: ContainerBuilder, records: readonly UserRecordInput[]): Uint8Array {
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const explicitHashKey = validateRecordExceptPartitionKey(record);
    builder.tryAdd(record.partitionKey, explicitHashKey, record.data, Number.POSITIVE_INFINITY);
  }
  return builder.encode();
}

function isNonEmptyArray(records: readonly UserRecordInput[]): boolean {
  return Array.isArray(records) && records.length > 0;
}
