import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { systemClock, type Clock } from '@kinesis-kit/core';
import { AwsErrorName, ServiceError } from './errors.js';

/** Checks requests' SigV4 signatures against these credentials. */
export interface AuthOptions {
  accessKeyId: string;
  secretAccessKey: string;
  /** Allowed clock skew between signer and server; default 5 minutes (Kinesis's). */
  maxSkewMs?: number;
  /**
   * The clock the date check uses; default the system clock, since the SDK signs with real time
   * (a test ManualClock usually starts elsewhere).
   */
  clock?: Clock;
}

export interface SignedRequest {
  method: string;
  /** Path and query as received (`/`, `/?a=b`). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const AUTH_PREFIX = 'AWS4-HMAC-SHA256 ';
const DEFAULT_SKEW_MS = 5 * 60_000;

const err = (name: string, message: string) => new ServiceError(name, message, 400);

function headerValue(headers: SignedRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 wants it for each path segment and query component. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf('=');
      const k = decodeURIComponent(i < 0 ? pair : pair.slice(0, i));
      const v = i < 0 ? '' : decodeURIComponent(pair.slice(i + 1));
      return [uriEncode(k), uriEncode(v)] as const;
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/**
 * Verifies an AWS SigV4 `Authorization` header the way AWS does, in AWS's order: missing
 * token, incomplete header, expired date, unknown key, wrong signature. Returns the error to send,
 * or undefined when the request is correctly signed.
 */
export function verifySigV4(req: SignedRequest, auth: AuthOptions): ServiceError | undefined {
  const authorization = headerValue(req.headers, 'authorization');
  if (!authorization) return err(AwsErrorName.MISSING_AUTHENTICATION_TOKEN, 'Missing Authentication Token');
  if (!authorization.startsWith(AUTH_PREFIX)) {
    return err(AwsErrorName.INCOMPLETE_SIGNATURE, `Unsupported AWS 'algorithm': only AWS4-HMAC-SHA256 is supported. Authorization=${authorization.split(' ')[0]}`);
  }
  const params = new Map<string, string>();
  for (const part of authorization.slice(AUTH_PREFIX.length).split(',')) {
    const i = part.indexOf('=');
    if (i > 0) params.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const credential = params.get('Credential');
  const signedHeaders = params.get('SignedHeaders');
  const signature = params.get('Signature');
  const amzDate = headerValue(req.headers, 'x-amz-date');
  const missing = [
    credential ? '' : "Authorization header requires 'Credential' parameter.",
    signedHeaders ? '' : "Authorization header requires 'SignedHeaders' parameter.",
    signature ? '' : "Authorization header requires 'Signature' parameter.",
    amzDate ? '' : "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
  ].filter(Boolean);
  if (missing.length > 0) return err(AwsErrorName.INCOMPLETE_SIGNATURE, missing.join(' '));
  const scope = credential!.split('/');
  if (scope.length !== 5) {
    return err(AwsErrorName.INCOMPLETE_SIGNATURE, `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
  }
  const [keyId, date, region, service, terminator] = scope as [string, string, string, string, string];

  const signedAt = parseAmzDate(amzDate!);
  if (signedAt === undefined) return err(AwsErrorName.INCOMPLETE_SIGNATURE, `Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`);
  const now = (auth.clock ?? systemClock).now();
  const skew = auth.maxSkewMs ?? DEFAULT_SKEW_MS;
  const minutes = Math.round(skew / 60_000);
  if (signedAt < now - skew) {
    return err(
      AwsErrorName.INVALID_SIGNATURE,
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(now - skew)} (${formatAmzDate(now)} - ${minutes} min.)`,
    );
  }
  if (signedAt > now + skew) {
    return err(
      AwsErrorName.INVALID_SIGNATURE,
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(now + skew)} (${formatAmzDate(now)} + ${minutes} min.)`,
    );
  }
  if (terminator !== 'aws4_request' || date !== amzDate!.slice(0, 8)) {
    return err(AwsErrorName.INVALID_SIGNATURE, `Credential should be scoped with a valid terminator and the request date: '${credential}'.`);
  }
  if (keyId !== auth.accessKeyId) return err(AwsErrorName.UNRECOGNIZED_CLIENT, 'The security token included in the request is invalid.');

  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const names = signedHeaders!.split(';');
  const headerLines = names.map((name) => {
    let value = headerValue(req.headers, name);
    if (value === undefined && name === 'host') value = headerValue(req.headers, ':authority');
    return `${name}:${(value ?? '').trim().replace(/\s+/g, ' ')}\n`;
  });
  // The payload hash is always the received body's (a client-sent x-amz-content-sha256 is not trusted).
  const payloadHash = headerValue(req.headers, 'x-amz-content-sha256') === 'UNSIGNED-PAYLOAD' ? 'UNSIGNED-PAYLOAD' : sha256Hex(req.body);
  const canonicalPath = path.split('/').map((seg) => uriEncode(decodeURIComponent(seg))).join('/') || '/';
  const canonicalRequest = [req.method, canonicalPath, canonicalQuery(query), headerLines.join(''), signedHeaders, payloadHash].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, `${date}/${region}/${service}/${terminator}`, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${auth.secretAccessKey}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest();
  const given = Buffer.from(signature!, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return err(
      AwsErrorName.INVALID_SIGNATURE,
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return undefined;
}
