/** Protobuf base-128 varints for non-negative integers up to 2^53 (all sizes and indices we write). */

/** Bytes needed to write `value` as a varint. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 5;
  let rest = Math.floor(value / 0x800000000); // 2^35
  while (rest > 0) {
    size++;
    rest = Math.floor(rest / 0x80);
  }
  return size;
}

/** Writes `value` at `offset` and returns the offset after it. */
export function writeVarint(buffer: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    buffer[offset++] = (value & 0x7f) | 0x80;
    value = value >= 0x80000000 ? Math.floor(value / 0x80) : value >>> 7;
  }
  buffer[offset++] = value;
  return offset;
}
