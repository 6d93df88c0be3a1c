import { readFile, rename, writeFile } from 'node:fs/promises';

/** Where the agent has read up to: which file (by inode) and the byte after the last shipped line. */
export interface FilePosition {
  /** The followed path, to notice a checkpoint file reused for another log. */
  path: string;
  inode: number;
  offset: number;
  /**
   * Base64 of the file's first bytes (up to 64) when the position was saved: a file truncated and
   * written again under the same inode is told apart from the one `offset` belongs to.
   */
  head?: string;
}

/**
 * The agent's checkpoint file. Written only after the lines before `offset` were acknowledged by
 * Kinesis, atomically (write a temp file, then rename) so a crash leaves the old or the new position,
 * never a torn one.
 */
export class PositionStore {
  constructor(readonly file: string) {}

  async load(): Promise<FilePosition | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const value = JSON.parse(text) as Partial<FilePosition>;
      if (typeof value.path === 'string' && Number.isSafeInteger(value.inode) && Number.isSafeInteger(value.offset) && (value.offset ?? -1) >= 0) {
        return {
          path: value.path,
          inode: value.inode as number,
          offset: value.offset as number,
          ...(typeof value.head === 'string' ? { head: value.head } : {}),
        };
      }
    } catch {
      // fall through: an unreadable checkpoint is treated as none
    }
    return undefined;
  }

  async save(position: FilePosition): Promise<void> {
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(position)}\n`);
    await rename(tmp, this.file);
  }
}
