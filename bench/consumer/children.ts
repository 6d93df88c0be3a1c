/** Starting the benchmark's child processes (the mock, a consumer worker). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild as startScript, type Child } from '../child-process.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Runs one of this folder's scripts as a child process. */
export function startChild(script: string, args: string[], env: Record<string, string> = {}): Child {
  return startScript(path.join(here, script), args, env);
}

export async function startMockChild(limits: boolean): Promise<{ endpoint: string; close(): Promise<void> }> {
  const child = startChild('mock-child.ts', [limits ? 'limits' : 'no-limits']);
  const endpoint = await child.line('READY');
  return { endpoint, close: () => child.close() };
}
