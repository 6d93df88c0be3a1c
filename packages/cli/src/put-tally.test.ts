import { UserRecordFailedError, type UserRecordResult } from '@kinesis-kit/producer';
import { describe, expect, it } from 'vitest';
import { failureReason, PutTally } from './put-tally.js';

const attempt = (errorCode: string, errorMessage: string) => ({ delay: 0, duration: 1, successful: false, errorCode, errorMessage });

describe('PutTally failure reasons', () => {
  it('a record that reached recordTtl reports its last real error, not "Expired"', () => {
    const result: UserRecordResult = {
      successful: false,
      attempts: [attempt('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), attempt('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), attempt('Expired', 'Record has reached expiration')],
    };
    const error = new UserRecordFailedError(result, { partitionKey: 'k', data: 'x' }, { expired: true });
    const tally = new PutTally({ endpoint: 'http://127.0.0.1:1' });
    tally.failed(error);
    expect(tally.summaryLine()).toMatch(/1 failed\n {2}1 x expired \(recordTtl\) after 2 attempt\(s\); last error: cannot reach http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)$/);
  });

  it('names the error code of a failure that has no friendlier description', () => {
    const result: UserRecordResult = { successful: false, attempts: [attempt('KMSDisabledException', 'key disabled')] };
    expect(failureReason(new UserRecordFailedError(result, { partitionKey: 'k', data: 'x' }))).toBe('KMSDisabledException: key disabled');
  });

  it('other errors: as describeError puts them', () => {
    expect(failureReason(new Error('boom'))).toBe('boom');
  });
});
