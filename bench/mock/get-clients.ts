/** Several GetRecords client processes (client-child.ts) reading from one server at once. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, type Child } from '../child-process.js';
import type { Measured } from './workload.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface GetClients {
  /** Every client runs its GetRecords loops for `ms` (after a short warm-up) at the same time; their rates summed. */
  get(ms: number): Promise<Measured>;
  close(): Promise<void>;
}

export async function startGetClients(endpoint: string, stream: string, shards: number, count: number): Promise<GetClients> {
  const children: Child[] = [];
  const close = async () => {
    await Promise.all(children.map((c) => c.close()));
  };
  try {
    for (let i = 0; i < count; i++) children.push(startChild(path.join(here, 'client-child.ts'), [endpoint, stream, String(shards)]));
    await Promise.all(children.map((c) => c.line('READY', 60_000)));
  } catch (err) {
    await close();
    throw err;
  }
  return {
    get: async (ms) => {
      const replies = children.map((c) => c.line('MEASURED ', ms + 60_000));
      for (const c of children) c.send(`get ${ms}`);
      const measured = (await Promise.all(replies)).map((reply) => JSON.parse(reply) as Measured);
      return { rate: measured.reduce((sum, m) => sum + m.rate, 0), records: measured.reduce((sum, m) => sum + m.records, 0) };
    },
    close,
  };
}
