import { runDemo } from '@kinesis-kit/cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandaloneDynamoDb } from '@kinesis-kit/mock';
import { startKinesisLocal, type KinesisLocal } from './kinesis-local.js';

// The same end-to-end pipeline as test/e2e, against an independent backend: kinesis-local (the npm
// build of kinesis-mock, LocalStack's Kinesis engine) over HTTP/1.1, with dynalite for the lease table.
// Small on purpose: kinesis-local handles about 1,500 records/s.
describe('compat: the pipeline on kinesis-local + dynalite', () => {
  let kinesisLocal: KinesisLocal;
  let dynamo: { endpoint: string; close(): Promise<void> };

  beforeAll(async () => {
    [kinesisLocal, dynamo] = await Promise.all([startKinesisLocal(), startStandaloneDynamoDb()]);
  });

  afterAll(async () => {
    await Promise.all([kinesisLocal?.close(), dynamo?.close()]);
  });

  it('produces, splits, fails over and consumes everything in per-key order', async () => {
    const report = await runDemo(
      {
        connection: {
          endpoint: kinesisLocal.endpoint,
          dynamoDbEndpoint: dynamo.endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: 'compat', secretAccessKey: 'compat' },
          http1: true,
        },
        durationMs: 6000,
        shards: 2,
        ratePerSecond: 150,
        keys: 20,
        progressIntervalMs: 0,
        failoverTimeMillis: 3000,
      },
      { log: () => undefined },
    );
    expect(report.ledger).toMatchObject({ failedPuts: 0, missing: 0, orderViolations: 0 });
    expect(report.ledger.acknowledged).toBeGreaterThan(500);
    expect(report.splitShard).toMatch(/^shardId-/);
    expect(report.passed).toBe(true);
  });
});
