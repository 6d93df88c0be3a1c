/** One input line: its bytes without the "\n" that ended it (nor a "\r" right before that "\n"). */
export interface InputLine {
  /** 1-based. */
  lineNumber: number;
  /** Undefined when the line is longer than `maxLineBytes`: its bytes were dropped, not kept in memory. */
  bytes: Buffer | undefined;
}

export interface ReadLinesOptions {
  /** Stops reading (without yielding a partial last line) when aborted, even while the input is quiet. */
  signal: AbortSignal;
  /** Longer lines are yielded as `{ bytes: undefined }` as soon as they pass this length. */
  maxLineBytes: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines on "\n" only (a "\r\n" ending loses its "\r"; a lone "\r" is data),
 * without decoding: a line's bytes are exactly what was read. A last line without "\n" counts.
 * Memory stays bounded: the input is paused while a line is being handled, and a line longer than
 * `maxLineBytes` is not buffered past that length.
 */
export async function* readInputLines(input: NodeJS.ReadableStream, options: ReadLinesOptions): AsyncGenerator<InputLine> {
  let lineNumber = 0;
  /** The current line's bytes so far (undefined once it is known to be too long). */
  let parts: Buffer[] | undefined = [];
  let partBytes = 0;
  let reportedTooLong = false;
  for await (const chunk of readChunks(input, options.signal)) {
    let from = 0;
    while (from < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, from);
      const end = newline < 0 ? chunk.length : newline;
      if (parts !== undefined) {
        if (partBytes + (end - from) <= options.maxLineBytes + 1) {
          // +1: a "\r" before the "\n" is not part of the line.
          if (end > from) parts.push(chunk.subarray(from, end));
          partBytes += end - from;
        } else {
          parts = undefined;
        }
      }
      if (parts === undefined && !reportedTooLong) {
        reportedTooLong = true;
        yield { lineNumber: lineNumber + 1, bytes: undefined };
        if (options.signal.aborted) return;
      }
      if (newline < 0) break;
      lineNumber++;
      from = newline + 1;
      if (parts !== undefined) {
        const line = withoutCr(parts.length === 1 ? parts[0]! : Buffer.concat(parts, partBytes));
        if (line.length > options.maxLineBytes) yield { lineNumber, bytes: undefined };
        else yield { lineNumber, bytes: line };
        if (options.signal.aborted) return;
      }
      parts = [];
      partBytes = 0;
      reportedTooLong = false;
    }
  }
  if (options.signal.aborted) return;
  if (parts === undefined || partBytes === 0) return;
  const last = Buffer.concat(parts, partBytes);
  yield { lineNumber: lineNumber + 1, bytes: last.length > options.maxLineBytes ? undefined : last };
}

function withoutCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, -1) : line;
}

/**
 * The input's chunks, one at a time: the stream flows only while this waits for the next chunk
 * (bounded memory), and an abort ends the wait at once. On return the stream is paused again, which
 * lets process.stdin release its handle so the process can exit.
 */
async function* readChunks(input: NodeJS.ReadableStream, signal: AbortSignal): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer | string): void => {
    queue.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    input.pause();
    wake?.();
  };
  const onEnd = (): void => {
    ended = true;
    wake?.();
  };
  const onError = (error: unknown): void => {
    failure = { error };
    wake?.();
  };
  const onAbort = (): void => wake?.();
  input.on('data', onData);
  input.on('end', onEnd);
  input.on('close', onEnd);
  input.on('error', onError);
  signal.addEventListener('abort', onAbort);
  try {
    for (;;) {
      if (signal.aborted) return;
      const chunk = queue.shift();
      if (chunk !== undefined) {
        yield chunk;
        continue;
      }
      if (failure) throw failure.error;
      if (ended) return;
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      input.resume();
      await woken;
      wake = undefined;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    input.removeListener('data', onData);
    input.removeListener('end', onEnd);
    input.removeListener('close', onEnd);
    input.removeListener('error', onError);
    input.pause();
  }
}
