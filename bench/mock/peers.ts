/**
 * The servers the mock is compared with: kinesalite (in process), kinesis-mock (the kinesis-local
 * npm build, as a child process) and a do-nothing server that answers valid PutRecords/GetRecords
 * responses without storing anything (the ceiling the client allows).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild } from '../child-process.js';
import { startDoNothingServer } from '../do-nothing-server.js';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

export interface Target {
  name: string;
  endpoint: string;
  close(): Promise<void>;
  /** CPU time (µs) the target's process has used so far, when it runs in its own process. */
  cpuMicros?: () => Promise<number>;
}

/** Starts `server-child.ts <which>`: it prints `READY <endpoint>` and answers each `cpu` line with `CPU <µs>`. */
export async function startChildTarget(which: 'ours' | 'kinesalite' | 'noop', name: string): Promise<Target> {
  const child = startChild(path.join(here, 'server-child.ts'), [which]);
  const endpoint = await child.line('READY ');
  return {
    name,
    endpoint,
    cpuMicros: async () => {
      const reply = child.line('CPU ');
      child.send('cpu');
      return Number(await reply);
    },
    close: () => child.close(),
  };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startKinesalite(): Promise<Target> {
  const kinesalite = require('kinesalite') as (o: object) => http.Server;
  const server = kinesalite({ ssl: false, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name: 'kinesalite',
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kinesis-local exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('kinesis-local did not start in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** CPU time of another process from /proc (Linux; clock ticks of 10 ms). */
async function procCpuMicros(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return NaN;
  }
}

/** kinesis-mock (Scala.js): needs its cert path in the env; binds 0.0.0.0; escalate to SIGKILL on stop. */
export async function startKinesisLocal(streams: string): Promise<Target> {
  const dir = path.dirname(require.resolve('kinesis-local/package.json'));
  const plain = await freePort();
  const tls = await freePort();
  const child = spawn(process.execPath, [path.join(dir, 'main.js')], {
    env: {
      ...process.env,
      KINESIS_MOCK_CERT_PATH: path.join(dir, 'server.json'),
      KINESIS_MOCK_PLAIN_PORT: String(plain),
      KINESIS_MOCK_TLS_PORT: String(tls),
      LOG_LEVEL: 'WARN',
      INITIALIZE_STREAMS: streams,
      CREATE_STREAM_DURATION: '0ms',
      SHARD_LIMIT: '100',
    },
    stdio: 'ignore',
  });
  await waitForPort(plain, child, 30_000);
  return {
    name: 'kinesis-mock (kinesis-local)',
    endpoint: `http://127.0.0.1:${plain}`,
    cpuMicros: async () => procCpuMicros(child.pid!),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The shared do-nothing endpoint (bench/do-nothing-server.ts) with 4 shards and a fixed GetRecords batch. */
export async function startDoNothing(recordBytes: number, batch: number): Promise<Target> {
  const server = await startDoNothingServer({ shardCount: 4, getRecordsBatch: batch, recordBytes });
  return { name: 'do-nothing server', ...server };
}
