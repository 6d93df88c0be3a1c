import { describe, expect, it } from 'vitest';
import { TypedEmitter } from './events.js';
import { MemoryLogger } from './logger.js';

interface Events {
  tick: { n: number };
  done: undefined;
}

describe('TypedEmitter', () => {
  it('delivers payloads and stops after the remover is called', () => {
    const emitter = new TypedEmitter<Events>();
    const seen: number[] = [];
    const off = emitter.on('tick', ({ n }) => void seen.push(n));
    emitter.emit('tick', { n: 1 });
    off();
    emitter.emit('tick', { n: 2 });
    expect(seen).toEqual([1]);
    expect(emitter.listenerCount('tick')).toBe(0);
  });

  it('isolates throwing and rejecting listeners and logs them', async () => {
    const logger = new MemoryLogger();
    const emitter = new TypedEmitter<Events>(logger);
    const seen: number[] = [];
    emitter.on('tick', () => {
      throw new Error('sync boom');
    });
    emitter.on('tick', async () => Promise.reject(new Error('async boom')));
    emitter.on('tick', ({ n }) => void seen.push(n));
    expect(() => emitter.emit('tick', { n: 7 })).not.toThrow();
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([7]);
    expect(logger.entries.filter((e) => e.level === 'warn')).toHaveLength(2);
  });

  it('next() resolves with the next payload and rejects on abort', async () => {
    const emitter = new TypedEmitter<Events>();
    const next = emitter.next('tick');
    emitter.emit('tick', { n: 3 });
    await expect(next).resolves.toEqual({ n: 3 });
    const controller = new AbortController();
    const pending = emitter.next('done', controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    expect(emitter.listenerCount('done')).toBe(0);
  });
});
