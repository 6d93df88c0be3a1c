import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { activeResources, leakedResources } from '@kinesis-kit/core';
import { startMockServer } from '@kinesis-kit/mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands/registry.js';
import { runProgram } from '../src/program.js';
import { captureIo } from './io.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Runs `kinesis-kit <args>` from sources as a user does (npm run kinesis-kit), stdin a pipe left open;
 * `interruptWhen` sends SIGINT once stdout+stderr match it. Resolves with the exit code and output.
 */
function runBin(args: string[], options: { interruptWhen?: RegExp; env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@kinesis-kit/source', '--import', 'tsx', 'packages/cli/src/bin.ts', ...args], {
      cwd: root,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    if (options.stdin !== undefined) child.stdin.write(options.stdin);
    let interrupted = false;
    const check = (): void => {
      if (!interrupted && options.interruptWhen?.test(stdout + stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      check();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      check();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('kinesis-kit: exit codes', () => {
  it.each([
    [['put', '--stream', 'orders', '--bogus'], "Unknown option '--bogus'"],
    [['tail', '--stream'], "Option '--stream <value>' argument missing"],
    [['leases', '--app', 'my-app', 'extra'], "Unexpected argument 'extra'"],
    [['agent', '--stream', 's', '--file', 'f', '--json=yes'], "Option '--json' does not take an argument"],
    [['demo', '--nope'], "Unknown option '--nope'"],
    [['mock', '--bogus'], "Unknown option '--bogus'"],
  ])('a flag mistake is bad usage: exit 2 with a pointer to --help (%j)', async (argv, message) => {
    const io = captureIo();
    expect(await runProgram(argv, io, { ...COMMANDS })).toBe(2);
    expect(io.stderr()).toContain(`kinesis-kit ${argv[0]}: ${message}`);
    expect(io.stderr()).toMatch(new RegExp(`\\(see kinesis-kit ${argv[0]} --help\\)\\n$`));
  });
});

describe('kinesis-kit mock', () => {
  let busy: Server;
  let busyPort: number;

  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => busy.close(resolve));
  });

  it('runs until the signal aborts, then closes the server and exits 0', async () => {
    const before = activeResources();
    const io = captureIo();
    const running = runProgram(['mock', '--port', '0', '--streams', 'orders:2'], io, { ...COMMANDS });
    while (!io.stdout().includes('listening on')) await new Promise((r) => setTimeout(r, 20));
    const endpoint = /listening on (\S+)/.exec(io.stdout())![1]!;
    expect((await fetch(endpoint, { method: 'POST' })).status).toBeGreaterThanOrEqual(400); // it answers
    io.abort();
    expect(await running).toBe(0);
    expect(io.stdout()).toMatch(/shutting down\n$/);
    expect(await leakedResources(before)).toEqual({});
  });

  it('a server that cannot start (port in use) exits 1; a bad --streams value is bad usage (2)', async () => {
    const inUse = captureIo();
    expect(await runProgram(['mock', '--port', String(busyPort)], inUse, { ...COMMANDS })).toBe(1);
    expect(inUse.stderr()).toMatch(/^kinesis-kit mock: .*EADDRINUSE/);

    const badName = captureIo();
    expect(await runProgram(['mock', '--port', '0', '--streams', 'bad!:2'], badName, { ...COMMANDS })).toBe(2);
    expect(badName.stderr()).toMatch(/^kinesis-kit mock: --streams: bad stream name "bad!" .*\(see kinesis-kit mock --help\)\n$/);
  });

  it('the program sets the exit code: a mock that cannot start exits 1, a flag mistake 2', async () => {
    const inUse = await runBin(['mock', '--port', String(busyPort)]);
    expect(inUse.stderr).toMatch(/EADDRINUSE/);
    expect(inUse.code).toBe(1);
    const unknown = await runBin(['put', '--bogus']);
    expect(unknown.code).toBe(2);
  });

  it('the program ends after Ctrl-C: the mock server (exit 0), and put with stdin open and quiet (exit 130)', async () => {
    const mock = await runBin(['mock', '--port', '0', '--streams', 'orders:1'], { interruptWhen: /listening on/ });
    expect(mock.stdout).toMatch(/shutting down\n$/);
    expect(mock.code).toBe(0);

    const server = await startMockServer({ streams: [{ name: 'orders', shardCount: 1 }] });
    try {
      const put = await runBin(['put', '--stream', 'orders', '--endpoint', server.endpoint, '--region', 'us-east-1'], {
        env: { AWS_ACCESS_KEY_ID: server.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey },
        stdin: 'one\ntwo\n',
        interruptWhen: /acknowledged 2/,
      });
      expect(put.stderr).toMatch(/done: 2 records, .* 2 acknowledged, .* 0 failed \(interrupted\)\n$/);
      expect(put.code).toBe(130);
    } finally {
      await server.close();
    }
  });
});
