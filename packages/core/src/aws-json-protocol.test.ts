import { describe, expect, it } from 'vitest';
import { speaksAwsJson11 } from './aws-json-protocol.js';

describe('speaksAwsJson11', () => {
  it('is true only for a client whose protocol names itself awsJson1_1', () => {
    expect(speaksAwsJson11({ config: { protocol: { getShapeId: () => 'aws.protocols#awsJson1_1' } } })).toBe(true);
    expect(speaksAwsJson11({ config: { protocol: { getShapeId: () => 'smithy.protocols#rpcv2Cbor' } } })).toBe(false);
    expect(speaksAwsJson11({ config: { protocol: {} } })).toBe(false);
    expect(speaksAwsJson11({ config: {} })).toBe(false);
    expect(speaksAwsJson11({ config: undefined })).toBe(false);
  });
});
