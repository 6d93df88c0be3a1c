import { describe, expect, it } from 'vitest';
import { classifyAwsError } from './aws-errors.js';

function sdkError(name: string, status?: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: status === undefined ? {} : { httpStatusCode: status } });
}

describe('classifyAwsError', () => {
  it.each([
    ['ProvisionedThroughputExceededException', 400, 'throttling', true],
    ['LimitExceededException', 400, 'throttling', true],
    ['ThrottlingException', 400, 'throttling', true],
    ['InternalFailure', 500, 'transient', true],
    ['ServiceUnavailable', 503, 'transient', true],
    ['SomethingNew', 502, 'transient', true],
    ['ResourceNotFoundException', 400, 'permanent', false],
    ['AccessDeniedException', 400, 'permanent', false],
    ['ValidationException', 400, 'permanent', false],
    ['ConditionalCheckFailedException', 400, 'permanent', false],
  ] as const)('%s (%i) is %s', (name, status, kind, retriable) => {
    const c = classifyAwsError(sdkError(name, status));
    expect(c).toMatchObject({ kind, retriable, code: name, httpStatus: status });
  });

  it('treats socket errors without a response as network errors', () => {
    const err = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classifyAwsError(err)).toMatchObject({ kind: 'network', code: 'ECONNRESET', retriable: true });
  });

  it("treats the SDK's missing-region error as permanent (retrying cannot fix it), other unlabelled errors as network", () => {
    // What a v3 client built without a region (and none in the environment) throws on every send().
    expect(classifyAwsError(new Error('Region is missing'))).toMatchObject({ kind: 'permanent', code: 'RegionMissing', retriable: false });
    expect(classifyAwsError(new Error('something else'))).toMatchObject({ kind: 'network', retriable: true });
  });

  it('copes with non-Error values', () => {
    expect(classifyAwsError('boom').message).toBe('boom');
    expect(classifyAwsError(undefined).retriable).toBe(true);
  });
});
