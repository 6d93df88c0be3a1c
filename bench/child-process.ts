/** A benchmark child process (a TypeScript script run from sources) that talks in lines over stdin/stdout. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import readline from 'node:readline';

export interface Child {
  process: ChildProcessWithoutNullStreams;
  /** Resolves with the rest of the next line starting with `prefix`; rejects if the child exits first. */
  line(prefix: string, timeoutMs?: number): Promise<string>;
  onLine(fn: (line: string) => void): void;
  /** Writes one line to the child's stdin. */
  send(line: string): void;
  /** Closes stdin (the child exits by itself), killing it if it has not exited within 5 s. */
  close(): Promise<void>;
}

const NODE_ARGS = ['--conditions=@kinesis-kit/source', '--import', 'tsx'];
const KILL_AFTER_MS = 5_000;

export function startChild(scriptPath: string, args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, [...NODE_ARGS, scriptPath, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const name = scriptPath.split('/').pop()!;
  const listeners = new Set<(line: string) => void>();
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    for (const fn of [...listeners]) fn(l);
  });
  // The tail of stderr, for the error when the child fails.
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    onLine: (fn) => listeners.add(fn),
    send: (line) => child.stdin.write(`${line}\n`),
    line: (prefix, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const listener = (l: string) => {
          if (!l.startsWith(prefix)) return;
          done();
          resolve(l.slice(prefix.length).trim());
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no "${prefix}" line within ${timeoutMs} ms\n${stderr}`));
        }, timeoutMs);
        listeners.add(listener);
        void exited.then(() => {
          if (!listeners.has(listener)) return;
          done();
          reject(new Error(`${name} exited\n${stderr}`));
        });
      }),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
