import { open, stat, type FileHandle } from 'node:fs/promises';
import { sleep, systemClock, type Clock } from '@kinesis-kit/core';
import type { FilePosition, PositionStore } from './position-store.js';

export interface FileFollowerOptions {
  path: string;
  store: PositionStore;
  /**
   * Ships one batch of complete lines (their bytes as in the file, without the line ending);
   * resolves only when all are acknowledged (retrying inside).
   */
  ship: (lines: Buffer[]) => Promise<void>;
  /** Where to begin when there is no checkpoint for this file (the Kinesis Agent's default is the end). */
  initialPosition?: 'start' | 'end';
  pollIntervalMs?: number;
  /**
   * Bytes read per step; bounds memory. Also the longest line shipped: a line that does not fit in
   * one chunk with its newline (default 1 MiB, the most a Kinesis record holds) is skipped whole and
   * reported through `onLongLine`, never cut into pieces.
   */
  chunkBytes?: number;
  /** A line longer than a chunk was skipped: where it started and its length without the newline. */
  onLongLine?: (info: { offset: number; bytes: number }) => void;
  clock?: Clock;
  /** Called after each checkpoint (tests and progress output). */
  onShipped?: (info: { lines: number; position: FilePosition }) => void;
}

interface OpenFile {
  handle: FileHandle;
  inode: number;
  /** The byte after the last line shipped. */
  offset: number;
  /** The file's first bytes as last seen (up to HEAD_BYTES): changed ones mean it was truncated and written again. */
  head: Buffer;
  /** While a line longer than a chunk is being skipped: how far its end was searched for (no newline before). */
  longLineScannedTo?: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** How much of a file's start is compared to notice a truncation the size alone does not show. */
const HEAD_BYTES = 64;

/**
 * Follows a growing log file like the Kinesis Agent: reads complete lines, ships them, and only then
 * moves the checkpoint. Rotation (the path now names a new inode) drains the old file to its end
 * first; truncation in place (copytruncate) restarts at 0, also when the file grew back past the old
 * offset before the next poll (its first bytes changed). A partial last line waits for its newline;
 * a line longer than a chunk is skipped whole.
 */
export class FileFollower {
  private readonly pollIntervalMs: number;
  private readonly chunkBytes: number;
  private readonly clock: Clock;
  private current: OpenFile | undefined;

  constructor(private readonly options: FileFollowerOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.chunkBytes = options.chunkBytes ?? 1024 * 1024;
    this.clock = options.clock ?? systemClock;
  }

  /** Runs until the signal aborts; resolves then (after closing the file). */
  async run(signal: AbortSignal): Promise<void> {
    try {
      while (!signal.aborted) {
        const progressed = await this.step();
        if (!progressed) await sleep(this.pollIntervalMs, signal, this.clock).catch(() => undefined);
      }
    } finally {
      await this.current?.handle.close();
      this.current = undefined;
    }
  }

  /** One pass: notice rotation/truncation, ship what is new. True if any line was shipped. */
  async step(): Promise<boolean> {
    const onDisk = await stat(this.options.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!this.current) {
      if (!onDisk) return false;
      this.current = await this.openAtCheckpoint(onDisk.ino, onDisk.size);
    }
    const file = this.current;
    if (onDisk && onDisk.ino === file.inode) {
      // Truncated in place (copytruncate): the file is shorter than our offset or, when it grew back past
      // it before this poll, starts with other bytes than before. Either way it restarts at 0.
      const head = await readHead(file.handle);
      if (onDisk.size < file.offset || !continues(head, file.head)) {
        file.offset = 0;
        file.longLineScannedTo = undefined;
        file.head = head;
      } else if (head.length > file.head.length) {
        file.head = head;
      }
    }
    const shipped = await this.shipNewLines(file);
    if (shipped > 0) return true;
    if (onDisk && onDisk.ino !== file.inode) {
      // Rotated: the old file is drained to its last complete line; move on to the new one.
      await file.handle.close();
      const handle = await open(this.options.path, 'r');
      this.current = { handle, inode: onDisk.ino, offset: 0, head: await readHead(handle) };
      await this.options.store.save({ path: this.options.path, inode: onDisk.ino, offset: 0, head: this.current.head.toString('base64') });
      return true;
    }
    return false;
  }

  private async openAtCheckpoint(inode: number, size: number): Promise<OpenFile> {
    const handle = await open(this.options.path, 'r');
    const saved = await this.options.store.load();
    const head = await readHead(handle);
    const sameContent = saved?.head === undefined || continues(head, Buffer.from(saved.head, 'base64'));
    let offset: number;
    if (saved && saved.path === this.options.path && saved.inode === inode && saved.offset <= size && sameContent) offset = saved.offset;
    else if (saved && saved.path === this.options.path && saved.inode === inode) offset = 0; // truncated while we were down
    else if (saved && saved.path === this.options.path) offset = 0; // rotated while we were down: the new file from its start
    else offset = this.options.initialPosition === 'start' ? 0 : size;
    return { handle, inode, offset, head };
  }

  private async shipNewLines(file: OpenFile): Promise<number> {
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(this.chunkBytes);
      const { bytesRead } = await file.handle.read(buffer, 0, buffer.length, file.offset);
      if (bytesRead === 0) return total;
      const lastNewline = buffer.subarray(0, bytesRead).lastIndexOf(NEWLINE);
      if (lastNewline < 0) {
        // No complete line: wait for the rest, unless one line is longer than a whole chunk.
        if (bytesRead < buffer.length) return total;
        const end = await this.findLongLineEnd(file, buffer);
        if (end === undefined) return total; // still being written: its newline comes later
        this.options.onLongLine?.({ offset: file.offset, bytes: end - file.offset });
        await this.commit(file, [], end + 1 - file.offset);
        total++;
        continue;
      }
      const lines = splitLines(buffer, lastNewline);
      await this.commit(file, lines, lastNewline + 1);
      total += lines.length;
      if (bytesRead < buffer.length) return total;
    }
  }

  /**
   * The offset of the newline ending a line that starts at `file.offset` and fills a whole chunk,
   * or undefined when it is not written yet (the search resumes where it stopped at the next step).
   */
  private async findLongLineEnd(file: OpenFile, buffer: Buffer): Promise<number | undefined> {
    let at = Math.max(file.longLineScannedTo ?? 0, file.offset + buffer.length);
    for (;;) {
      const { bytesRead } = await file.handle.read(buffer, 0, buffer.length, at);
      const newline = buffer.subarray(0, bytesRead).indexOf(NEWLINE);
      if (newline >= 0) {
        file.longLineScannedTo = undefined;
        return at + newline;
      }
      at += bytesRead;
      file.longLineScannedTo = at;
      if (bytesRead < buffer.length) return undefined;
    }
  }

  private async commit(file: OpenFile, lines: Buffer[], bytes: number): Promise<void> {
    if (lines.length > 0) await this.options.ship(lines);
    file.offset += bytes;
    const position = { path: this.options.path, inode: file.inode, offset: file.offset, head: file.head.toString('base64') };
    await this.options.store.save(position);
    this.options.onShipped?.({ lines: lines.length, position });
  }
}

/**
 * The non-empty lines of `buffer` up to the newline at `lastNewline`, as views of their bytes (not
 * decoded: a log in another encoding, or with a broken UTF-8 sequence, is shipped as written).
 * A CR before the newline is dropped (CRLF files).
 */
function splitLines(buffer: Buffer, lastNewline: number): Buffer[] {
  const lines: Buffer[] = [];
  for (let start = 0; start <= lastNewline; ) {
    const newline = buffer.indexOf(NEWLINE, start);
    const end = newline > start && buffer[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
    if (end > start) lines.push(buffer.subarray(start, end));
    start = newline + 1;
  }
  return lines;
}

/** The file's first bytes (up to HEAD_BYTES). */
async function readHead(handle: FileHandle): Promise<Buffer> {
  const buffer = Buffer.alloc(HEAD_BYTES);
  const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
  return buffer.subarray(0, bytesRead);
}

/** True when one of the two starts is a prefix of the other: the same file, perhaps grown. */
function continues(now: Buffer, before: Buffer): boolean {
  const n = Math.min(now.length, before.length);
  return now.subarray(0, n).equals(before.subarray(0, n));
}
