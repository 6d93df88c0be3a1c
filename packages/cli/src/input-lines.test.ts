import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readInputLines, type InputLine } from './input-lines.js';

async function collect(input: NodeJS.ReadableStream, maxLineBytes = 100, signal = new AbortController().signal): Promise<[number, string | undefined][]> {
  const out: [number, string | undefined][] = [];
  for await (const line of readInputLines(input, { signal, maxLineBytes })) out.push([line.lineNumber, line.bytes?.toString('latin1')]);
  return out;
}

describe('readInputLines', () => {
  it('splits on "\\n" only, drops the "\\r" of "\\r\\n", keeps a lone "\\r", across chunk boundaries', async () => {
    const chunks = ['a\rb\r', '\nsec', 'ond\n\nla', 'st'].map((c) => Buffer.from(c));
    expect(await collect(Readable.from(chunks))).toEqual([
      [1, 'a\rb'],
      [2, 'second'],
      [3, ''],
      [4, 'last'],
    ]);
  });

  it('passes bytes through undecoded', async () => {
    const [[, line]] = (await collect(Readable.from([Buffer.from([0xff, 0x00, 0xfe, 0x0a])]))) as [[number, string]];
    expect(Buffer.from(line, 'latin1')).toEqual(Buffer.from([0xff, 0x00, 0xfe]));
  });

  it('a line over maxLineBytes comes as { bytes: undefined } once, without buffering it; the next lines follow', async () => {
    const chunks = ['ok\n', 'x'.repeat(8), 'x'.repeat(8), 'x\nafter\n', 'y'.repeat(11)].map((c) => Buffer.from(c));
    expect(await collect(Readable.from(chunks), 10)).toEqual([
      [1, 'ok'],
      [2, undefined],
      [3, 'after'],
      [4, undefined],
    ]);
    // A line of exactly maxLineBytes with "\r\n" is not too long.
    expect(await collect(Readable.from([Buffer.from(`${'z'.repeat(10)}\r\n`)]), 10)).toEqual([[1, 'z'.repeat(10)]]);
  });

  it('an abort ends the wait for input at once, without a partial last line, and leaves the stream paused', async () => {
    const input = new PassThrough();
    const controller = new AbortController();
    const lines: InputLine[] = [];
    const reading = (async () => {
      for await (const line of readInputLines(input, { signal: controller.signal, maxLineBytes: 100 })) lines.push(line);
    })();
    input.write('one\npart');
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await reading;
    expect(lines.map((l) => l.bytes?.toString())).toEqual(['one']);
    expect(input.isPaused()).toBe(true);
    expect(input.listenerCount('data')).toBe(0);
  });

  it('a stream error is thrown', async () => {
    const input = new PassThrough();
    const reading = collect(input);
    input.destroy(new Error('EIO'));
    await expect(reading).rejects.toThrow('EIO');
  });
});
