import { hash } from 'node:crypto';

/** One-shot MD5 (crypto.hash avoids the Hash object createHash would allocate). */
export function md5(data: Uint8Array): Buffer {
  return hash('md5', data, 'buffer');
}

/** MD5 of a string's UTF-8 bytes as 32 lowercase hex digits (the 128-bit hash key, big-endian). */
export function md5Hex(text: string): string {
  return hash('md5', text, 'hex');
}
