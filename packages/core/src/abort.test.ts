import { describe, expect, it } from 'vitest';
import { AbortError, sharedAbortController, untilAborted } from './abort.js';

describe('untilAborted', () => {
  it('settles as the promise does while the signal stays quiet', async () => {
    const signal = new AbortController().signal;
    await expect(untilAborted(Promise.resolve(7), signal)).resolves.toBe(7);
    await expect(untilAborted(Promise.reject(new Error('boom')), signal)).rejects.toThrow('boom');
  });

  it('rejects with the abort reason as soon as the signal aborts, without waiting for the promise', async () => {
    const controller = new AbortController();
    const never = new Promise<number>(() => {});
    const waiting = untilAborted(never, controller.signal);
    const reason = new Error('stopped');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(untilAborted(never, AbortSignal.abort())).rejects.toBeInstanceOf(Error);
    const plain = new AbortController();
    plain.abort('not an error');
    await expect(untilAborted(never, plain.signal)).rejects.toBeInstanceOf(AbortError);
  });
});

describe('sharedAbortController', () => {
  it("takes many listeners without Node's MaxListenersExceededWarning, and aborts them all", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const shared = sharedAbortController();
      let aborted = 0;
      // A plain AbortController's signal warns ("possible memory leak") past 10.
      for (let i = 0; i < 50; i++) shared.signal.addEventListener('abort', () => void (aborted += 1));
      shared.abort();
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
      expect(aborted).toBe(50);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
