/** Starting the benchmark's child processes (the mock, a consumer worker) and reading their lines. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface Child {
  process: ChildProcessWithoutNullStreams;
  /** Resolves with the first line starting with `prefix` (its rest). */
  line(prefix: string, timeoutMs?: number): Promise<string>;
  onLine(fn: (line: string) => void): void;
  /** Closes stdin (the child exits by itself) and waits for the exit. */
  close(): Promise<void>;
}

export function startChild(script: string, args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, ['--conditions=@kinesis-kit/source', '--import', 'tsx', path.join(here, script), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const listeners: ((line: string) => void)[] = [];
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    for (const fn of listeners) fn(l);
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    onLine: (fn) => listeners.push(fn),
    line: (prefix, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${script}: no "${prefix}" line within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
        listeners.push((l) => {
          if (l.startsWith(prefix)) {
            clearTimeout(timer);
            resolve(l.slice(prefix.length).trim());
          }
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`${script} exited\n${stderr}`));
        });
      }),
    close: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

export async function startMockChild(limits: boolean): Promise<{ endpoint: string; close(): Promise<void> }> {
  const child = startChild('mock-child.ts', [limits ? 'limits' : 'no-limits']);
  const endpoint = await child.line('READY');
  return { endpoint, close: () => child.close() };
}
