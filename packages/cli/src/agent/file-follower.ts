import { open, stat, type FileHandle } from 'node:fs/promises';
import { sleep, systemClock, type Clock } from '@kinesis-kit/core';
import type { FilePosition, PositionStore } from './position-store.js';

export interface FileFollowerOptions {
  path: string;
  store: PositionStore;
  /** Ships one batch of complete lines; resolves only when all are acknowledged (retrying inside). */
  ship: (lines: string[]) => Promise<void>;
  /** Where to begin when there is no checkpoint for this file (the Kinesis Agent's default is the end). */
  initialPosition?: 'start' | 'end';
  pollIntervalMs?: number;
  /** Bytes read per step; bounds memory. */
  chunkBytes?: number;
  clock?: Clock;
  /** Called after each checkpoint (tests and progress output). */
  onShipped?: (info: { lines: number; position: FilePosition }) => void;
}

interface OpenFile {
  handle: FileHandle;
  inode: number;
  /** The byte after the last line shipped. */
  offset: number;
}

const NEWLINE = 0x0a;

/**
 * Follows a growing log file like the Kinesis Agent: reads complete lines, ships them, and only then
 * moves the checkpoint. Rotation (the path now names a new inode) drains the old file to its end
 * first; truncation in place (copytruncate) restarts at 0. A partial last line waits for its newline.
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
    if (onDisk && onDisk.ino === file.inode && onDisk.size < file.offset) {
      file.offset = 0; // truncated in place
    }
    const shipped = await this.shipNewLines(file);
    if (shipped > 0) return true;
    if (onDisk && onDisk.ino !== file.inode) {
      // Rotated: the old file is drained to its last complete line; move on to the new one.
      await file.handle.close();
      this.current = { handle: await open(this.options.path, 'r'), inode: onDisk.ino, offset: 0 };
      await this.options.store.save({ path: this.options.path, inode: onDisk.ino, offset: 0 });
      return true;
    }
    return false;
  }

  private async openAtCheckpoint(inode: number, size: number): Promise<OpenFile> {
    const handle = await open(this.options.path, 'r');
    const saved = await this.options.store.load();
    let offset: number;
    if (saved && saved.path === this.options.path && saved.inode === inode && saved.offset <= size) offset = saved.offset;
    else if (saved && saved.path === this.options.path) offset = 0; // rotated while we were down: the new file from its start
    else offset = this.options.initialPosition === 'start' ? 0 : size;
    return { handle, inode, offset };
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
        await this.commit(file, [buffer.toString('utf8', 0, bytesRead)], bytesRead);
        total++;
        continue;
      }
      const lines = buffer.toString('utf8', 0, lastNewline).split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
      const nonEmpty = lines.filter((l) => l.length > 0);
      await this.commit(file, nonEmpty, lastNewline + 1);
      total += nonEmpty.length;
      if (bytesRead < buffer.length) return total;
    }
  }

  private async commit(file: OpenFile, lines: string[], bytes: number): Promise<void> {
    if (lines.length > 0) await this.options.ship(lines);
    file.offset += bytes;
    const position = { path: this.options.path, inode: file.inode, offset: file.offset };
    await this.options.store.save(position);
    this.options.onShipped?.({ lines: lines.length, position });
  }
}
