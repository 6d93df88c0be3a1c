import { Readable } from 'node:stream';
import type { CommandIo } from '../src/commands/command.js';

export interface CapturedIo extends CommandIo {
  stdout: () => string;
  stderr: () => string;
  abort: () => void;
}

/** A CommandIo that records output, with stdin from the given text (or the given stream, e.g. one left open). */
export function captureIo(stdin: string | NodeJS.ReadableStream = ''): CapturedIo {
  let out = '';
  let err = '';
  const controller = new AbortController();
  return {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    stdin: typeof stdin === 'string' ? Readable.from([stdin]) : stdin,
    signal: controller.signal,
    isTty: false,
    stdout: () => out,
    stderr: () => err,
    abort: () => controller.abort(),
  };
}
