import { hash } from 'node:crypto';

/** One-shot MD5 (crypto.hash avoids the Hash object createHash would allocate). */
export function md5(data: Uint8Array): Buffer {
  return hash('md5', data, 'buffer');
}
