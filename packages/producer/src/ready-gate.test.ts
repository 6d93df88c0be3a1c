import { describe, expect, it } from 'vitest';
import { ReadyGate } from './ready-gate.js';

describe('ReadyGate', () => {
  it('resolves waits when opened; a failure before that rejects current and new waits until it opens', async () => {
    const gate = new ReadyGate();
    const first = gate.wait();
    gate.fail(new Error('no stream'));
    await expect(first).rejects.toThrow('no stream');
    await expect(gate.wait()).rejects.toThrow('no stream');
    gate.open();
    await gate.wait();
    gate.fail(new Error('later failure')); // once open, stays open
    gate.close(new Error('closed'));
    await gate.wait();
  });

  it('an aborted wait rejects with the reason and leaves the others waiting; close rejects the rest for good', async () => {
    const gate = new ReadyGate();
    const controller = new AbortController();
    const aborted = gate.wait(controller.signal);
    let otherSettled = false;
    const other = gate.wait().finally(() => (otherSettled = true));
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    await Promise.resolve();
    expect(otherSettled).toBe(false);
    gate.close(new Error('closed'));
    await expect(other).rejects.toThrow('closed');
    gate.open(); // too late: closed first
    await expect(gate.wait()).rejects.toThrow('closed');
    await expect(gate.wait(AbortSignal.abort(new Error('x')))).rejects.toThrow('closed');
  });
});
