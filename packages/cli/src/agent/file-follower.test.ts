import { appendFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileFollower } from './file-follower.js';
import { PositionStore } from './position-store.js';

describe('FileFollower', () => {
  let dir: string;
  let log: string;
  let store: PositionStore;
  /** What was shipped, each line decoded (latin1 keeps every byte visible). */
  let shipped: string[];
  let shippedBytes: Buffer[];
  const followers: FileFollower[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kk-agent-'));
    log = join(dir, 'app.log');
    store = new PositionStore(join(dir, 'app.log.position'));
    shipped = [];
    shippedBytes = [];
  });

  afterEach(async () => {
    // step() leaves the file open; run() closes it on abort.
    for (const f of followers.splice(0)) await f.run(AbortSignal.abort());
    await rm(dir, { recursive: true, force: true });
  });

  let longLines: { offset: number; bytes: number }[];

  function follower(initialPosition: 'start' | 'end' = 'start', chunkBytes?: number): FileFollower {
    longLines = [];
    const f = new FileFollower({
      path: log,
      store,
      initialPosition,
      ...(chunkBytes ? { chunkBytes } : {}),
      onLongLine: (info) => longLines.push(info),
      ship: async (lines) => {
        shippedBytes.push(...lines.map((l) => Buffer.from(l)));
        shipped.push(...lines.map((l) => l.toString('latin1')));
      },
    });
    followers.push(f);
    return f;
  }

  it('ships complete lines only; a partial line waits for its newline', async () => {
    await writeFile(log, 'one\ntwo\nthr');
    const f = follower();
    expect(await f.step()).toBe(true);
    expect(shipped).toEqual(['one', 'two']);
    expect(await f.step()).toBe(false);
    await appendFile(log, 'ee\r\n\nfour\n');
    await f.step();
    expect(shipped).toEqual(['one', 'two', 'three', 'four']);
    expect(await store.load()).toMatchObject({ path: log, offset: 'one\ntwo\nthree\r\n\nfour\n'.length });
  });

  it('ships the bytes of each line as written: no UTF-8 decoding (Latin-1 text, broken sequences), CR dropped before LF only', async () => {
    const latin1 = Buffer.from('caf\xe9', 'latin1'); // "café" in ISO-8859-1: 0xe9 alone is not UTF-8
    const broken = Buffer.from([0x61, 0xe2, 0x82, 0x62]); // a truncated 3-byte sequence
    const innerCr = Buffer.from('a\rb');
    await writeFile(log, Buffer.concat([latin1, Buffer.from('\r\n'), broken, Buffer.from('\n'), innerCr, Buffer.from('\n\r\n')]));
    await follower().step();
    expect(shippedBytes).toEqual([latin1, broken, innerCr]);
  });

  it('starts at the end of an existing file by default, as the Kinesis Agent does', async () => {
    await writeFile(log, 'old\n');
    const f = follower('end');
    await f.step();
    await appendFile(log, 'new\n');
    await f.step();
    expect(shipped).toEqual(['new']);
  });

  it('resumes from the checkpoint after a restart without shipping anything twice', async () => {
    await writeFile(log, 'a\nb\n');
    await follower().step();
    await appendFile(log, 'c\n');
    await follower('end').step();
    expect(shipped).toEqual(['a', 'b', 'c']);
  });

  it('drains the rotated file to its end, then follows the new file from its start', async () => {
    await writeFile(log, 'a\n');
    const f = follower();
    await f.step();
    await appendFile(log, 'b\n');
    await rename(log, `${log}.1`);
    await writeFile(log, 'c\n');
    while (await f.step());
    expect(shipped).toEqual(['a', 'b', 'c']);
  });

  it('restarts at 0 when the file is truncated in place (copytruncate)', async () => {
    await writeFile(log, 'a\nb\n');
    const f = follower();
    await f.step();
    await truncate(log, 0);
    await appendFile(log, 'c\n');
    await f.step();
    expect(shipped).toEqual(['a', 'b', 'c']);
  });

  it('restarts at 0 after a copytruncate even when the file grew back past the old offset before the next poll', async () => {
    await writeFile(log, 'a\nb\n');
    const f = follower();
    await f.step();
    await truncate(log, 0);
    await appendFile(log, 'new first line\nnew second\n');
    await f.step();
    expect(shipped).toEqual(['a', 'b', 'new first line', 'new second']);
  });

  it('notices a copytruncate that happened while it was stopped', async () => {
    await writeFile(log, 'a\nb\n');
    await follower().step();
    await truncate(log, 0);
    await appendFile(log, 'rewritten while down\n');
    await follower('end').step();
    expect(shipped).toEqual(['a', 'b', 'rewritten while down']);
  });

  it('reads in bounded chunks; a line longer than a chunk is skipped whole and reported, never cut into pieces', async () => {
    await writeFile(log, `a\n${'x'.repeat(10)}\nshort\n`);
    const f = follower('start', 8);
    while (await f.step());
    expect(shipped).toEqual(['a', 'short']);
    expect(longLines).toEqual([{ offset: 2, bytes: 10 }]);
    expect(await store.load()).toMatchObject({ offset: `a\n${'x'.repeat(10)}\nshort\n`.length });
  });

  it('a long line still being written waits for its newline, then is skipped; the position never stops inside it', async () => {
    await writeFile(log, 'x'.repeat(20));
    const f = follower('start', 8);
    expect(await f.step()).toBe(false);
    expect(await f.step()).toBe(false);
    expect(longLines).toEqual([]);
    expect(await store.load()).toBeUndefined();
    await appendFile(log, 'yy\r\nnext\n');
    while (await f.step());
    expect(longLines).toEqual([{ offset: 0, bytes: 23 }]);
    expect(shipped).toEqual(['next']);
  });

  it('does not move the checkpoint when shipping fails', async () => {
    await writeFile(log, 'a\n');
    const failing = new FileFollower({ path: log, store, initialPosition: 'start', ship: () => Promise.reject(new Error('kinesis down')) });
    followers.push(failing);
    await expect(failing.step()).rejects.toThrow('kinesis down');
    expect(await store.load()).toBeUndefined();
    await follower().step();
    expect(shipped).toEqual(['a']);
  });
});
