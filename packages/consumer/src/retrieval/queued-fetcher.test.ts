import { silentLogger } from '@kinesis-kit/core';
import { describe, expect, it } from 'vitest';
import { QueuedFetcher } from './queued-fetcher.js';

class Scripted extends QueuedFetcher {
  constructor(private readonly script: (self: Scripted) => Promise<void>) {
    super({ maxPrefetchRecords: 10, maxPrefetchBytes: 1_000 }, silentLogger);
    this.start();
  }

  protected run(): Promise<void> {
    return this.script(this);
  }

  push(records: number): Promise<void> {
    return this.queue.push({ records: [], count: records, bytes: records, millisBehindLatest: 0, receivedAt: 0 }, this.controller.signal);
  }
}

describe('QueuedFetcher', () => {
  it('hands out what the loop queued, in order', async () => {
    const f = new Scripted(async (self) => {
      await self.push(1);
      await self.push(2);
    });
    const signal = new AbortController().signal;
    expect((await f.next(signal)).count).toBe(1);
    expect((await f.next(signal)).count).toBe(2);
    await f.close();
  });

  it('a loop that dies makes next() reject with its error instead of waiting forever', async () => {
    const f = new Scripted(() => Promise.reject(new Error('loop broke')));
    await expect(f.next(new AbortController().signal)).rejects.toThrow('loop broke');
    await f.close();
  });

  it('close() stops a waiting next() and the loop', async () => {
    let stopped = false;
    const f = new Scripted(async (self) => {
      await self.push(20); // over the bound: the next push waits until it is taken
      await self.push(20);
      await self.push(1).catch(() => (stopped = true)); // waits behind the second one until close()
    });
    const waiting = f.next(new AbortController().signal);
    expect((await waiting).count).toBe(20);
    await f.close();
    expect(stopped).toBe(true);
    await expect(f.next(new AbortController().signal)).rejects.toBeDefined();
  });
});
