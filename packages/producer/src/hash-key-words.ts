import { hash } from 'node:crypto';

/**
 * Hash keys on the producer's hot path: MD5 of the partition key as four big-endian 32-bit words
 * (word 0 holds the top bits of the 128-bit hash key) in a shared Uint32Array, so routing a record
 * allocates nothing (no Hash object, no Buffer, no hex string, no bigint).
 *
 * Keys of at most 55 ASCII characters (one MD5 block: ids, UUIDs, nearly all real keys) are hashed
 * here in JavaScript, ~2.5x faster than calling crypto.hash for such short inputs; longer or
 * non-ASCII keys go to crypto.hash. The steps are RFC 1321's, unrolled, constants inlined
 * (K[i] = floor(|sin(i + 1)| x 2^32); shifts 7/12/17/22, 5/9/14/20, 4/11/16/23, 6/10/15/21).
 */
export type HashKeyWords = Uint32Array;

/** Scratch for one hash: valid until the next call. */
const WORDS: HashKeyWords = new Uint32Array(4);
const BLOCK = new Int32Array(16);

/** MD5 of the partition key's UTF-8 bytes as 4 big-endian words, in a shared array (copy it to keep it). */
export function partitionKeyHashWords(partitionKey: string): HashKeyWords {
  const n = partitionKey.length;
  if (n > 55) return digestWords(partitionKey);
  const m = BLOCK;
  for (let i = 0; i < 16; i++) m[i] = 0;
  for (let i = 0; i < n; i++) {
    const c = partitionKey.charCodeAt(i);
    if (c > 0x7f) return digestWords(partitionKey);
    m[i >> 2]! |= c << ((i & 3) << 3);
  }
  m[n >> 2]! |= 0x80 << ((n & 3) << 3);
  m[14] = n << 3;
  md5Block(m);
  return WORDS;
}

function digestWords(partitionKey: string): HashKeyWords {
  const digest = hash('md5', partitionKey, 'buffer');
  WORDS[0] = digest.readUInt32BE(0);
  WORDS[1] = digest.readUInt32BE(4);
  WORDS[2] = digest.readUInt32BE(8);
  WORDS[3] = digest.readUInt32BE(12);
  return WORDS;
}

/** A 128-bit hash key as 4 big-endian words (into `out`, or a new array). */
export function hashKeyToWords(hashKey: bigint, out: HashKeyWords = new Uint32Array(4)): HashKeyWords {
  let rest = hashKey;
  for (let i = 3; i >= 0; i--) {
    out[i] = Number(rest & 0xffffffffn);
    rest >>= 32n;
  }
  return out;
}

export function wordsToHashKey(words: HashKeyWords): bigint {
  return (BigInt(words[0]!) << 96n) | (BigInt(words[1]!) << 64n) | (BigInt(words[2]!) << 32n) | BigInt(words[3]!);
}

/** Compares hash key `a` with the one at `offset` of `table` (4 words per key): negative, 0 or positive. */
export function compareWords(a: HashKeyWords, table: Uint32Array, offset: number): number {
  for (let i = 0; i < 4; i++) {
    const d = a[i]! - table[offset + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

const bswap = (x: number): number => (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;

/** MD5 of one final block from the initial state; the digest goes to WORDS as big-endian words. */
function md5Block(m: Int32Array): void {
  const m0 = m[0]!;
  const m1 = m[1]!;
  const m2 = m[2]!;
  const m3 = m[3]!;
  const m4 = m[4]!;
  const m5 = m[5]!;
  const m6 = m[6]!;
  const m7 = m[7]!;
  const m8 = m[8]!;
  const m9 = m[9]!;
  const m10 = m[10]!;
  const m11 = m[11]!;
  const m12 = m[12]!;
  const m13 = m[13]!;
  const m14 = m[14]!;
  const m15 = m[15]!;
  let a = 0x67452301;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476;
  let x = 0;
  // Round 1
  x = (a + ((b & c) | (~b & d)) + -680876936 + m0) | 0; a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = (d + ((a & b) | (~a & c)) + -389564586 + m1) | 0; d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = (c + ((d & a) | (~d & b)) + 606105819 + m2) | 0; c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = (b + ((c & d) | (~c & a)) + -1044525330 + m3) | 0; b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = (a + ((b & c) | (~b & d)) + -176418897 + m4) | 0; a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = (d + ((a & b) | (~a & c)) + 1200080426 + m5) | 0; d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = (c + ((d & a) | (~d & b)) + -1473231341 + m6) | 0; c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = (b + ((c & d) | (~c & a)) + -45705983 + m7) | 0; b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = (a + ((b & c) | (~b & d)) + 1770035416 + m8) | 0; a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = (d + ((a & b) | (~a & c)) + -1958414417 + m9) | 0; d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = (c + ((d & a) | (~d & b)) + -42063 + m10) | 0; c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = (b + ((c & d) | (~c & a)) + -1990404162 + m11) | 0; b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = (a + ((b & c) | (~b & d)) + 1804603682 + m12) | 0; a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = (d + ((a & b) | (~a & c)) + -40341101 + m13) | 0; d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = (c + ((d & a) | (~d & b)) + -1502002290 + m14) | 0; c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = (b + ((c & d) | (~c & a)) + 1236535329 + m15) | 0; b = (c + ((x << 22) | (x >>> 10))) | 0;
  // Round 2
  x = (a + ((d & b) | (~d & c)) + -165796510 + m1) | 0; a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = (d + ((c & a) | (~c & b)) + -1069501632 + m6) | 0; d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = (c + ((b & d) | (~b & a)) + 643717713 + m11) | 0; c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = (b + ((a & c) | (~a & d)) + -373897302 + m0) | 0; b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = (a + ((d & b) | (~d & c)) + -701558691 + m5) | 0; a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = (d + ((c & a) | (~c & b)) + 38016083 + m10) | 0; d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = (c + ((b & d) | (~b & a)) + -660478335 + m15) | 0; c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = (b + ((a & c) | (~a & d)) + -405537848 + m4) | 0; b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = (a + ((d & b) | (~d & c)) + 568446438 + m9) | 0; a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = (d + ((c & a) | (~c & b)) + -1019803690 + m14) | 0; d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = (c + ((b & d) | (~b & a)) + -187363961 + m3) | 0; c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = (b + ((a & c) | (~a & d)) + 1163531501 + m8) | 0; b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = (a + ((d & b) | (~d & c)) + -1444681467 + m13) | 0; a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = (d + ((c & a) | (~c & b)) + -51403784 + m2) | 0; d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = (c + ((b & d) | (~b & a)) + 1735328473 + m7) | 0; c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = (b + ((a & c) | (~a & d)) + -1926607734 + m12) | 0; b = (c + ((x << 20) | (x >>> 12))) | 0;
  // Round 3
  x = (a + (b ^ c ^ d) + -378558 + m5) | 0; a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = (d + (a ^ b ^ c) + -2022574463 + m8) | 0; d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = (c + (d ^ a ^ b) + 1839030562 + m11) | 0; c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = (b + (c ^ d ^ a) + -35309556 + m14) | 0; b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = (a + (b ^ c ^ d) + -1530992060 + m1) | 0; a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = (d + (a ^ b ^ c) + 1272893353 + m4) | 0; d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = (c + (d ^ a ^ b) + -155497632 + m7) | 0; c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = (b + (c ^ d ^ a) + -1094730640 + m10) | 0; b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = (a + (b ^ c ^ d) + 681279174 + m13) | 0; a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = (d + (a ^ b ^ c) + -358537222 + m0) | 0; d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = (c + (d ^ a ^ b) + -722521979 + m3) | 0; c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = (b + (c ^ d ^ a) + 76029189 + m6) | 0; b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = (a + (b ^ c ^ d) + -640364487 + m9) | 0; a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = (d + (a ^ b ^ c) + -421815835 + m12) | 0; d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = (c + (d ^ a ^ b) + 530742520 + m15) | 0; c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = (b + (c ^ d ^ a) + -995338651 + m2) | 0; b = (c + ((x << 23) | (x >>> 9))) | 0;
  // Round 4
  x = (a + (c ^ (b | ~d)) + -198630844 + m0) | 0; a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = (d + (b ^ (a | ~c)) + 1126891415 + m7) | 0; d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = (c + (a ^ (d | ~b)) + -1416354905 + m14) | 0; c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = (b + (d ^ (c | ~a)) + -57434055 + m5) | 0; b = (c + ((x << 21) | (x >>> 11))) | 0;
  x = (a + (c ^ (b | ~d)) + 1700485571 + m12) | 0; a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = (d + (b ^ (a | ~c)) + -1894986606 + m3) | 0; d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = (c + (a ^ (d | ~b)) + -1051523 + m10) | 0; c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = (b + (d ^ (c | ~a)) + -2054922799 + m1) | 0; b = (c + ((x << 21) | (x >>> 11))) | 0;
  x = (a + (c ^ (b | ~d)) + 1873313359 + m8) | 0; a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = (d + (b ^ (a | ~c)) + -30611744 + m15) | 0; d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = (c + (a ^ (d | ~b)) + -1560198380 + m6) | 0; c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = (b + (d ^ (c | ~a)) + 1309151649 + m13) | 0; b = (c + ((x << 21) | (x >>> 11))) | 0;
  x = (a + (c ^ (b | ~d)) + -145523070 + m4) | 0; a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = (d + (b ^ (a | ~c)) + -1120210379 + m11) | 0; d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = (c + (a ^ (d | ~b)) + 718787259 + m2) | 0; c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = (b + (d ^ (c | ~a)) + -343485551 + m9) | 0; b = (c + ((x << 21) | (x >>> 11))) | 0;
  WORDS[0] = bswap((a + 0x67452301) | 0);
  WORDS[1] = bswap((b + (0xefcdab89 | 0)) | 0);
  WORDS[2] = bswap((c + (0x98badcfe | 0)) | 0);
  WORDS[3] = bswap((d + 0x10325476) | 0);
}
