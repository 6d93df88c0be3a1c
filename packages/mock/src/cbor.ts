import type { IncomingHttpHeaders } from 'node:http';

/**
 * The AWS SDK for Java (v1 and v2) sends Kinesis requests as CBOR unless told not to. The mock reads
 * JSON only; it refuses CBOR with an error a CBOR client can read, so the cause is plain on that side.
 */
export const CBOR_CONTENT_TYPE = 'application/x-amz-cbor-1.1';

export const CBOR_UNSUPPORTED_MESSAGE =
  `Content type ${CBOR_CONTENT_TYPE} (CBOR) is not supported by @kinesis-kit/mock; send application/x-amz-json-1.1. ` +
  'AWS SDK for Java 1.x: -Dcom.amazonaws.sdk.disableCbor=true or AWS_CBOR_DISABLE=true; ' +
  '2.x: -Daws.cborEnabled=false or CBOR_ENABLED=false.';

export function isCborRequest(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith(CBOR_CONTENT_TYPE);
}

/** CBOR item head: major type and length/count (RFC 8949 §3). */
function head(major: number, n: number): Buffer {
  const m = major << 5;
  if (n < 24) return Buffer.from([m | n]);
  if (n < 0x100) return Buffer.from([m | 24, n]);
  const b = Buffer.alloc(n < 0x10000 ? 3 : 5);
  b[0] = m | (n < 0x10000 ? 25 : 26);
  if (n < 0x10000) b.writeUInt16BE(n, 1);
  else b.writeUInt32BE(n, 1);
  return b;
}

/** A CBOR map of text strings: enough for an error body `{ __type, message }`. */
export function encodeCborTextMap(map: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [head(5, Object.keys(map).length)];
  for (const [k, v] of Object.entries(map)) {
    for (const text of [k, v]) {
      const bytes = Buffer.from(text, 'utf8');
      parts.push(head(3, bytes.length), bytes);
    }
  }
  return Buffer.concat(parts);
}
