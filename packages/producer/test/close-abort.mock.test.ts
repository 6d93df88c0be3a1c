import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { ManualClock } from '@kinesis-kit/core';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { afterEach, describe, expect, it } from 'vitest';
import { KinesisProducer, ProducerClosedError } from '../src/index.js';
import { logPutRecords, readBack, testClient } from './helpers.js';

// An aborted close({ signal }) fails what is left with ProducerClosedError ("close() was aborted
// before the record was written"), so none of those records may be written afterwards: requests
// still waiting for a connection slot are dropped, and no timer or request starts after close.
// The producer runs on a ManualClock; the mock server answers in real time.

let server: MockServer | undefined;
let client: KinesisClient | undefined;

afterEach(async () => {
  client?.destroy();
  client = undefined;
  await server?.close();
  server = undefined;
});

async function start(latencyMs: number) {
  server = await startMockServer({ streams: [{ name: 's', shardCount: 1 }], faults: { rules: [{ operation: 'PutRecords', latencyMs }] } });
  client = testClient(server);
  const clock = new ManualClock();
  // One connection and one entry per request: the first request is in flight, the rest wait for the slot.
  const producer = new KinesisProducer({ streamName: 's', kinesisClient: client, clock, maxConnections: 1, aggregationEnabled: false, collectionMaxCount: 1 });
  await producer.ready();
  return { clock, producer, sent: logPutRecords(client) };
}

/** 'written', 'unsent' (closed before it was sent), 'sending' (closed while in flight: maybe written) or the error. */
const closedOrWritten = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'written',
    (e: unknown) => {
      if (!(e instanceof ProducerClosedError)) return String(e);
      return e.message.includes('may have been written') ? 'sending' : 'unsent';
    },
  );

describe('close({ signal }) aborted', () => {
  it('sends none of the requests still waiting for a connection, and starts no timer after it returned', async () => {
    const { clock, producer, sent } = await start(200);
    const outcomes = Array.from({ length: 5 }, (_, i) => closedOrWritten(producer.put({ partitionKey: `k${i}`, data: `d${i}` })));
    await clock.advance(0);
    expect(sent.keys).toEqual(['k0']); // k1..k4 wait for the connection
    const firstEnded = new Promise<void>((resolve) => producer.on('requestCompleted', () => resolve()));
    const ac = new AbortController();
    const closing = producer.close({ signal: ac.signal });
    ac.abort();
    await closing;
    expect(await Promise.all(outcomes)).toEqual(['sending', 'unsent', 'unsent', 'unsent', 'unsent']);
    await firstEnded; // the aborted request gave its connection back
    await clock.advance(0);
    expect(sent.keys).toEqual(['k0']);
    expect(clock.pendingTimers).toBe(0);
    const back = await readBack(server!, client!, 's');
    const written = [...back.byShard.values()].flat().map((r) => r.partitionKey);
    expect(written.filter((k) => k !== 'k0')).toEqual([]); // k0 was in flight, as its error says: it may have been written
  });

  it('a signal given to a later close() call still ends the wait of an earlier close()', async () => {
    const { clock, producer } = await start(60_000);
    const outcome = closedOrWritten(producer.put({ partitionKey: 'k', data: 'd' }));
    await clock.advance(0);
    const first = producer.close();
    const ac = new AbortController();
    const second = producer.close({ signal: ac.signal });
    ac.abort();
    await Promise.all([first, second]);
    expect(await outcome).toBe('sending');
    expect(clock.pendingTimers).toBe(0);
  });
});
