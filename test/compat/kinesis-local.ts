import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));

export interface KinesisLocal {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * `count` distinct free ports. All are held open until each is known: ports taken one after the other
 * (listen, close, listen again) can come back the same, and kinesis-local then cannot bind its second one.
 */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => net.createServer());
  try {
    for (const server of servers) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return servers.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

async function waitForPort(port: number, exited: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited()) throw new Error('kinesis-local exited during start-up');
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`kinesis-local did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * kinesis-local (the npm build of kinesis-mock, LocalStack's Kinesis engine) as a child process on
 * loopback ports. Resharding and stream creation are instant so tests need not wait.
 */
export async function startKinesisLocal(streams: { name: string; shardCount: number }[] = []): Promise<KinesisLocal> {
  const dir = path.dirname(require.resolve('kinesis-local/package.json'));
  const [plain, tls] = (await freePorts(2)) as [number, number];
  const child = spawn(process.execPath, ['--import', path.join(here, 'loopback-only.mjs'), path.join(dir, 'main.js')], {
    env: {
      ...process.env,
      KINESIS_MOCK_CERT_PATH: path.join(dir, 'server.json'),
      KINESIS_MOCK_PLAIN_PORT: String(plain),
      KINESIS_MOCK_TLS_PORT: String(tls),
      LOG_LEVEL: 'ERROR',
      // kinesis-local rejects an empty INITIALIZE_STREAMS, so it is set only when there are streams.
      ...(streams.length > 0 ? { INITIALIZE_STREAMS: streams.map((s) => `${s.name}:${s.shardCount}`).join(',') } : {}),
      CREATE_STREAM_DURATION: '0ms',
      DELETE_STREAM_DURATION: '0ms',
      UPDATE_SHARD_COUNT_DURATION: '0ms',
      SPLIT_SHARD_DURATION: '0ms',
      MERGE_SHARDS_DURATION: '0ms',
      REGISTER_STREAM_CONSUMER_DURATION: '0ms',
      DEREGISTER_STREAM_CONSUMER_DURATION: '0ms',
      SHARD_LIMIT: '100',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    await waitForPort(plain, () => child.exitCode !== null, 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  return {
    endpoint: `http://127.0.0.1:${plain}`,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
