import { MemoryLogger } from '@kinesis-kit/core';
import { startMockServer } from '@kinesis-kit/mock';
import { KinesisConsumer } from '@kinesis-kit/consumer';
import { KinesisProducer } from '@kinesis-kit/producer';
import { describe, expect, it } from 'vitest';

const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY';
const PAYLOAD_MARKER = 'payload-marker-7f3a9c';

/** Every string a log entry carries, fields included, as it would be serialised. */
function logText(logger: MemoryLogger): string {
  return logger.entries.map((e) => JSON.stringify({ ...e, fields: e.fields }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).join('\n');
}

describe('no credentials or record payloads in logs, at any level', () => {
  it('producer and mock, through retries, throttling, injected failures and bad input', async () => {
    const serverLog = new MemoryLogger();
    const producerLog = new MemoryLogger();
    const server = await startMockServer({
      streams: [{ name: 'audited', shardCount: 2 }],
      logger: serverLog,
      seed: 7,
      faults: { rules: [{ operation: 'PutRecords', throttleRate: 0.3 }, { operation: 'PutRecords', errorRate: 0.2, errorCode: 'InternalFailureException', statusCode: 500 }] },
    });
    const producer = new KinesisProducer({
      streamName: 'audited',
      endpoint: server.endpoint,
      region: server.region,
      credentials: { accessKeyId: 'AKIDAUDIT', secretAccessKey: SECRET_KEY },
      logger: producerLog,
      recordMaxBufferedTime: 10,
    });
    const puts = Array.from({ length: 500 }, (_, i) => producer.put({ partitionKey: `k${i}`, data: `${PAYLOAD_MARKER}-${i}` }));
    await expect(producer.put({ partitionKey: '', data: PAYLOAD_MARKER })).rejects.toThrow();
    await Promise.allSettled(puts);
    await producer.close();
    await server.close();

    const text = `${logText(serverLog)}\n${logText(producerLog)}`;
    expect(producerLog.entries.length + serverLog.entries.length).toBeGreaterThan(0);
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toContain(PAYLOAD_MARKER);
    expect(text).not.toContain(Buffer.from(PAYLOAD_MARKER).toString('base64').slice(0, 16));
  });

  it('consumer and lease coordinator, through a failing processor, GetRecords faults and DynamoDB errors', async () => {
    const consumerLog = new MemoryLogger();
    const server = await startMockServer({
      streams: [{ name: 'audited', shardCount: 2 }],
      seed: 9,
      faults: {
        rules: [
          { operation: 'GetRecords', errorRate: 0.2, errorCode: 'InternalFailureException', statusCode: 500 },
          { service: 'dynamodb', operation: 'UpdateItem', errorRate: 0.1, errorCode: 'ProvisionedThroughputExceededException' },
        ],
      },
    });
    const credentials = { accessKeyId: 'AKIDAUDIT', secretAccessKey: SECRET_KEY };
    const producer = new KinesisProducer({ streamName: 'audited', endpoint: server.endpoint, region: server.region, credentials });
    await Promise.all(Array.from({ length: 200 }, (_, i) => producer.put({ partitionKey: `k${i}`, data: `${PAYLOAD_MARKER}-${i}` })));
    await producer.close();
    let delivered = 0;
    let failures = 0;
    const consumer = new KinesisConsumer({
      applicationName: 'audited-app',
      streamName: 'audited',
      endpoint: server.endpoint,
      region: server.region,
      credentials,
      logger: consumerLog,
      initialPosition: 'TRIM_HORIZON',
      failurePolicy: { retryBaseDelayMillis: 5, retryMaxDelayMillis: 20 },
      eachBatch: ({ records }) => {
        if (failures++ < 3) throw new Error(`handler failed on ${Buffer.from(records[0]!.data).toString()}`.replace(PAYLOAD_MARKER, 'x'));
        delivered += records.length;
      },
    });
    await consumer.start();
    const deadline = Date.now() + 30_000;
    while (delivered < 200 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await consumer.stop();
    await server.close();

    expect(delivered).toBe(200);
    const text = logText(consumerLog);
    expect(consumerLog.entries.some((e) => e.level === 'warn')).toBe(true);
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toContain(PAYLOAD_MARKER);
    expect(text).not.toContain(Buffer.from(PAYLOAD_MARKER).toString('base64').slice(0, 16));
  });
});
