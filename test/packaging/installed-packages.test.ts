/**
 * The packages as users get them: built, reduced to the files `npm pack` would publish, and laid
 * out in an application's node_modules. Every other test runs on the TypeScript sources, so this
 * is the one place that sees a missing file in `files`, an export that points nowhere, a `bin`
 * that does not start, a source map without its source, or declaration files that do not
 * type-check for a user.
 *
 * Third-party dependencies come from the workspace's own node_modules (the application sits
 * below the repository, so Node and TypeScript find them by walking up): no registry, and the
 * versions the lockfile pins. Whether each package declares them is checked by
 * declared-dependencies.test.ts.
 */
import { execFile, spawn } from 'node:child_process';
import { access, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PACKAGES = ['aggregation', 'core', 'producer', 'consumer', 'mock', 'cli'] as const;
// The SDK's one-time warning that its 2027 releases need Node 22 (see the README) is noise here.
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NODE_OPTIONS: '' };

interface PackFile {
  path: string;
}
interface PackResult {
  name: string;
  files: PackFile[];
}

let app: string;

/** Runs `node args` in the application directory; rejects with its output when it exits non-zero. */
async function node(args: string[], timeout = 60_000): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, args, { cwd: app, env, timeout, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`node ${args.join(' ')} failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  }
}

/** Writes a file of the application from its lines; returns its path. */
async function writeAppFile(name: string, lines: string[]): Promise<string> {
  const file = path.join(app, name);
  await writeFile(file, lines.join('\n'));
  return file;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** The installed file a package's `bin` entry names (what npm links the command to). */
async function installedBin(pkg: string, command: string): Promise<string> {
  const dir = path.join(app, 'node_modules/@kinesis-kit', pkg);
  const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return path.join(dir, manifest.bin[command]!);
}

/** The first ```ts block of a package README: its quick start. */
async function quickStart(pkg: string): Promise<string> {
  const readme = await readFile(path.join(root, 'packages', pkg, 'README.md'), 'utf8');
  const block = /^```ts\n([\s\S]*?)^```/m.exec(readme);
  if (!block) throw new Error(`packages/${pkg}/README.md has no \`\`\`ts block`);
  return block[1]!;
}

beforeAll(async () => {
  await run('npm', ['run', 'build'], { cwd: root, env, timeout: 170_000 });
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--workspaces'], { cwd: root, env, timeout: 60_000 });
  const packed = JSON.parse(stdout) as PackResult[];
  await mkdir(path.join(root, '.tmp'), { recursive: true });
  app = await mkdtemp(path.join(root, '.tmp', 'installed-'));
  await writeFile(path.join(app, 'package.json'), JSON.stringify({ name: 'user-app', private: true, type: 'module' }));
  for (const pkg of PACKAGES) {
    const name = `@kinesis-kit/${pkg}`;
    const result = packed.find((p) => p.name === name);
    if (!result) throw new Error(`npm pack did not list ${name}`);
    for (const file of result.files) {
      await cp(path.join(root, 'packages', pkg, file.path), path.join(app, 'node_modules', name, file.path));
    }
  }
}, 240_000);

afterAll(async () => {
  if (app) await rm(app, { recursive: true, force: true });
});

describe('the packages as installed from npm', () => {
  // What the README's comments say a quick start prints, where its output is fixed.
  const printed: Record<string, string | undefined> = { aggregation: '3 482 user-1 1', core: '100 {}\ntrue' };

  it.each(['aggregation', 'core', 'producer', 'consumer', 'mock'])('the %s README quick start runs', async (pkg) => {
    const file = path.join(app, `quick-start-${pkg}.ts`);
    await writeFile(file, await quickStart(pkg));
    const output = await node(['--import', 'tsx', file]);
    if (printed[pkg] !== undefined) expect(output.trim()).toBe(printed[pkg]);
  });

  it('every source map and declaration map points at a file that is installed', async () => {
    const missing: string[] = [];
    let maps = 0;
    for (const pkg of PACKAGES) {
      const dir = path.join(app, 'node_modules/@kinesis-kit', pkg);
      for (const entry of await readdir(path.join(dir, 'dist'), { recursive: true })) {
        if (!entry.endsWith('.map')) continue;
        maps++;
        const map = path.join(dir, 'dist', entry);
        const { sources } = JSON.parse(await readFile(map, 'utf8')) as { sources: string[] };
        for (const source of sources) {
          const target = path.resolve(path.dirname(map), source);
          if (!(await exists(target))) missing.push(`${path.relative(app, map)} -> ${source}`);
        }
      }
    }
    expect(maps).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('the kinesis-kit bin runs the demo', async () => {
    const output = await node([await installedBin('cli', 'kinesis-kit'), 'demo', '--duration', '2'], 120_000);
    expect(output).toContain('verification: PASSED');
  }, 150_000);

  it('the kinesis-kit-mock bin serves the SDK and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [await installedBin('mock', 'kinesis-kit-mock'), '--port', '0', '--streams', 'orders:2'], {
      cwd: app,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const endpoint = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', () => {
          const match = /http:\/\/127\.0\.0\.1:\d+/.exec(output);
          if (match) resolve(match[0]);
        });
        void exited.then((code) => reject(new Error(`the mock exited (${code}) before listening:\n${output}`)));
      });
      const script = await writeAppFile('list-streams.mjs', [
        "import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';",
        `const client = new KinesisClient({ endpoint: '${endpoint}', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });`,
        'const out = await client.send(new ListStreamsCommand({}));',
        'console.log(out.StreamNames.join(","));',
        'client.destroy();',
      ]);
      expect((await node([script])).trim()).toBe('orders');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('CommonJS code can require the packages (require(esm))', async () => {
    const script = await writeAppFile('require.cjs', [
      "const { encodeAggregatedRecord, deaggregate } = require('@kinesis-kit/aggregation');",
      "const { KinesisProducer } = require('@kinesis-kit/producer');",
      "const { KinesisConsumer } = require('@kinesis-kit/consumer');",
      "const data = encodeAggregatedRecord([{ partitionKey: 'a', data: Buffer.from('x') }, { partitionKey: 'b', data: Buffer.from('y') }]);",
      "console.log(deaggregate({ Data: data, PartitionKey: 'a', SequenceNumber: '1' }).length, typeof KinesisProducer, typeof KinesisConsumer);",
    ]);
    expect((await node([script])).trim()).toBe('2 function function');
  });

  it('the declaration files type-check in a strict TypeScript project', async () => {
    await writeAppFile('typed.ts', [
      "import { encodeAggregatedRecord, RecordAggregator, type AggregatedRecord } from '@kinesis-kit/aggregation';",
      "import { KinesisProducer, type UserRecordResult } from '@kinesis-kit/producer';",
      "import { FanOutRequestHandler, KinesisConsumer, type EachBatchPayload } from '@kinesis-kit/consumer';",
      "import { startMockServer, type MockServer } from '@kinesis-kit/mock';",
      "import { ManualClock } from '@kinesis-kit/core';",
      '',
      "const containers: readonly AggregatedRecord[] = new RecordAggregator({ maxSize: 51200 }).add({ partitionKey: 'a', data: new Uint8Array(1) });",
      "const bytes: Uint8Array = encodeAggregatedRecord([{ partitionKey: 'a', data: new Uint8Array(1) }]);",
      'export async function main(): Promise<void> {',
      "  const server: MockServer = await startMockServer({ streams: [{ name: 'orders', shardCount: 1 }] });",
      "  const producer = new KinesisProducer({ streamName: 'orders', ...server.clientConfig() });",
      "  const result: UserRecordResult = await producer.put({ partitionKey: 'k', data: 'v' });",
      '  const consumer = new KinesisConsumer({',
      "    applicationName: 'app',",
      "    streamName: 'orders',",
      '    ...server.clientConfig(),',
      "    retrieval: { mode: 'fanout' },",
      '    eachBatch: async (batch: EachBatchPayload) => {',
      '      await Promise.resolve(batch.records.length);',
      '    },',
      '  });',
      '  const handler = new FanOutRequestHandler();',
      '  handler.destroy();',
      '  const clock = new ManualClock();',
      '  console.log(containers.length, bytes.length, result.shardId, clock.now(), consumer.status().shards.length);',
      '  await producer.close();',
      '  await server.close();',
    '}',
    ]);
    await writeFile(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', skipLibCheck: false, types: ['node'] },
        files: ['typed.ts'],
      }),
    );
    await node([path.join(root, 'node_modules/typescript/bin/tsc'), '-p', app], 120_000);
  }, 150_000);
});
