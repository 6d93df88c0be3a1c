/**
 * The public types as a TypeScript user meets them. These are compile-time checks: `npm run
 * typecheck` fails when an `@ts-expect-error` below stops being an error (the type accepts what
 * the constructor would refuse at run time) or when a type assertion no longer holds.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { UserRecord as AggregationUserRecord } from '@kinesis-kit/aggregation';
import type { KinesisConsumerOptions, UserRecord } from '@kinesis-kit/consumer';
import type { KinesisProducer, KinesisProducerOptions, SuccessfulUserRecordResult, UserRecordResult } from '@kinesis-kit/producer';

/** Type-checks `value` as a T (and returns it, so the calls have something to assert on). */
function accepts<T>(value: T): T {
  return value;
}

const ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/orders';
const eachBatch = (): void => {};
const eachRecord = (): void => {};
const processorFactory = () => ({ processRecords: (): void => {} });

describe('public types', () => {
  it('the consumer exports the record type its handlers receive', () => {
    expectTypeOf<UserRecord>().toEqualTypeOf<AggregationUserRecord>();
    expectTypeOf<Parameters<NonNullable<KinesisConsumerOptions['eachRecord']>>[0]['record']>().toEqualTypeOf<UserRecord>();
  });

  it('consumer options take exactly one of streamName / streamArn and exactly one handler', () => {
    const accepted = [
      accepts<KinesisConsumerOptions>({ applicationName: 'app', streamName: 'orders', eachBatch }),
      accepts<KinesisConsumerOptions>({ applicationName: 'app', streamArn: ARN, eachRecord }),
      accepts<KinesisConsumerOptions>({ applicationName: 'app', streamName: 'orders', processorFactory }),
    ];
    // @ts-expect-error no handler
    accepts<KinesisConsumerOptions>({ applicationName: 'app', streamName: 'orders' });
    // @ts-expect-error two handlers
    accepts<KinesisConsumerOptions>({ applicationName: 'app', streamName: 'orders', eachBatch, eachRecord });
    // @ts-expect-error both streamName and streamArn
    accepts<KinesisConsumerOptions>({ applicationName: 'app', streamName: 'orders', streamArn: ARN, eachBatch });
    // @ts-expect-error no stream
    accepts<KinesisConsumerOptions>({ applicationName: 'app', eachBatch });
    expect(accepted).toHaveLength(3);
  });

  it('producer options take exactly one of streamName / streamArn', () => {
    const accepted = [accepts<KinesisProducerOptions>({ streamName: 'orders' }), accepts<KinesisProducerOptions>({ streamArn: ARN, region: 'us-east-1' })];
    // @ts-expect-error both
    accepts<KinesisProducerOptions>({ streamName: 'orders', streamArn: ARN });
    // @ts-expect-error neither
    accepts<KinesisProducerOptions>({ region: 'us-east-1' });
    expect(accepted).toHaveLength(2);
  });

  it('a resolved put() says where the record went; a failure result is told apart by `successful`', () => {
    expectTypeOf<Awaited<ReturnType<KinesisProducer['put']>>>().toEqualTypeOf<SuccessfulUserRecordResult>();
    expectTypeOf<Awaited<ReturnType<KinesisProducer['putMany']>>>().toEqualTypeOf<SuccessfulUserRecordResult[]>();
    expectTypeOf<SuccessfulUserRecordResult['shardId']>().toEqualTypeOf<string>();
    expectTypeOf<SuccessfulUserRecordResult['sequenceNumber']>().toEqualTypeOf<string>();
    expectTypeOf<SuccessfulUserRecordResult['subSequenceNumber']>().toEqualTypeOf<number>();
    const where = (result: UserRecordResult): string => (result.successful ? `${result.shardId}/${result.sequenceNumber}` : 'failed');
    expect(where({ successful: false, attempts: [] })).toBe('failed');
    expect(where({ successful: true, shardId: 'shardId-000000000000', sequenceNumber: '1', subSequenceNumber: 0, attempts: [] })).toBe('shardId-000000000000/1');
  });
});
