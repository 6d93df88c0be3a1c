import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { ManualClock } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { verifySigV4 } from './sigv4.js';

/** The signer's hash interface (SHA-256, or HMAC-SHA-256 when given a secret) on node:crypto. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytesOf = (d: SourceData): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.h.digest());
  }
}

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const body = '{"StreamName":"s"}';

async function signed(at: Date, creds = credentials) {
  const signer = new SignatureV4({ credentials: creds, region: 'us-east-1', service: 'kinesis', sha256: Sha256 });
  const req = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4567,
      path: '/',
      headers: { host: '127.0.0.1:4567', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Kinesis_20131202.DescribeStream' },
      body,
    },
    { signingDate: at },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  return { method: 'POST', url: '/', headers, body: Buffer.from(body) };
}

describe('verifySigV4', () => {
  const clock = new ManualClock({ wallStart: Date.UTC(2026, 5, 1, 12) });
  const auth = { ...credentials, clock };

  it('accepts a request signed by the SDK signer', async () => {
    expect(verifySigV4(await signed(new Date(clock.now())), auth)).toBeUndefined();
  });

  it('rejects a changed body, a wrong secret and an unknown key', async () => {
    const req = await signed(new Date(clock.now()));
    expect(verifySigV4({ ...req, body: Buffer.from('{}') }, auth)?.awsName).toBe('InvalidSignatureException');
    expect(verifySigV4(await signed(new Date(clock.now()), { ...credentials, secretAccessKey: 'other' }), auth)?.awsName).toBe('InvalidSignatureException');
    expect(verifySigV4(await signed(new Date(clock.now()), { ...credentials, accessKeyId: 'AKIDOTHER' }), auth)?.awsName).toBe('UnrecognizedClientException');
  });

  it('allows 5 minutes of skew either way', async () => {
    expect(verifySigV4(await signed(new Date(clock.now() - 299_000)), auth)).toBeUndefined();
    const old = verifySigV4(await signed(new Date(clock.now() - 301_000)), auth);
    expect(old?.awsName).toBe('InvalidSignatureException');
    expect(old?.message).toBe('Signature expired: 20260601T115459Z is now earlier than 20260601T115500Z (20260601T120000Z - 5 min.)');
    expect(verifySigV4(await signed(new Date(clock.now() + 301_000)), auth)?.message).toMatch(/^Signature not yet current/);
  });

  it('reports a missing or incomplete Authorization header', () => {
    expect(verifySigV4({ method: 'POST', url: '/', headers: {}, body: Buffer.alloc(0) }, auth)?.awsName).toBe('MissingAuthenticationTokenException');
    expect(
      verifySigV4({ method: 'POST', url: '/', headers: { authorization: 'AWS4-HMAC-SHA256 Credential=a/b/c/d/e' }, body: Buffer.alloc(0) }, auth)?.awsName,
    ).toBe('IncompleteSignatureException');
  });
});
