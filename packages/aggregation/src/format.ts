/**
 * Constants of the KPL aggregated record format:
 * `[F3 89 9A C2][protobuf AggregatedRecord][MD5 of the protobuf bytes]`.
 */

/** The 4 bytes every aggregated record starts with (a frozen array: typed arrays cannot be frozen). */
export const AGGREGATED_RECORD_MAGIC = Object.freeze([0xf3, 0x89, 0x9a, 0xc2] as const);
export const MAGIC_LENGTH = 4;
export const DIGEST_LENGTH = 16;
/** Magic + MD5 trailer around the protobuf bytes (the KPL's `kFixedOverhead`). */
export const AGGREGATION_FIXED_OVERHEAD = MAGIC_LENGTH + DIGEST_LENGTH;

/** Tag bytes (field number << 3 | wire type) of the fields the KPL writes. */
export const Tag = {
  /** AggregatedRecord.partition_key_table (1, LEN) */
  PARTITION_KEY_TABLE: 0x0a,
  /** AggregatedRecord.explicit_hash_key_table (2, LEN) */
  EXPLICIT_HASH_KEY_TABLE: 0x12,
  /** AggregatedRecord.records (3, LEN) */
  RECORDS: 0x1a,
  /** Record.partition_key_index (1, VARINT) */
  PARTITION_KEY_INDEX: 0x08,
  /** Record.explicit_hash_key_index (2, VARINT) */
  EXPLICIT_HASH_KEY_INDEX: 0x10,
  /** Record.data (3, LEN) */
  DATA: 0x1a,
} as const;

/**
 * True when `data` is treated as an aggregated record by the KCL: it starts with the magic and
 * MORE than 16 bytes follow it. (Whether the checksum and protobuf are valid is checked later.)
 */
export function hasAggregatedRecordMagic(data: Uint8Array): boolean {
  return (
    data.length > AGGREGATION_FIXED_OVERHEAD &&
    data[0] === 0xf3 &&
    data[1] === 0x89 &&
    data[2] === 0x9a &&
    data[3] === 0xc2
  );
}
