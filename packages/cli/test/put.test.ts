import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { activeResources, leakedResources } from '@kinesis-kit/core';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../src/program.js';
import { putCommand } from '../src/commands/put.js';
import { tailCommand } from '../src/commands/tail.js';
import { captureIo } from './io.js';

const commands = { put: async () => putCommand, tail: async () => tailCommand };

interface TailedJson {
  partitionKey: string;
  data: string;
  encoding: 'utf8' | 'base64';
  aggregated: boolean;
}

/** `promise`, or a rejection naming `what` after `ms` (a command that hangs fails its test quickly). */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still running after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('kinesis-kit put', () => {
  let server: MockServer;
  let connection: string[];

  beforeAll(async () => {
    server = await startMockServer({
      streams: ['lines', 'json', 'aggregated', 'bytes', 'hash-keys', 'quiet'].map((name) => ({ name, shardCount: name === 'lines' ? 2 : 1 })),
    });
    process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
    connection = ['--endpoint', server.endpoint, '--region', 'us-east-1'];
  });

  afterAll(async () => {
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    await server.close();
  });

  it('writes every stdin line as a record, aggregated, and summarises', async () => {
    const before = activeResources();
    const input = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n');
    const io = captureIo(`${input}\n`);
    expect(await runProgram(['put', '--stream', 'lines', '--quiet', ...connection], io, commands)).toBe(0);
    expect(io.stderr()).toMatch(/done: 2000 records, .* 2000 acknowledged, \d+ throttled attempts, 0 failed/);

    const tail = captureIo();
    await runProgram(['tail', '--stream', 'lines', '--from', 'trim-horizon', '--limit', '2000', '--json', ...connection], tail, commands);
    const data = tail.stdout().trim().split('\n').map((l) => (JSON.parse(l) as { data: string }).data);
    expect(new Set(data)).toEqual(new Set(input.split('\n')));
    expect(await leakedResources(before)).toEqual({});
  });

  it('JSON lines keep their key; a bad line exits 2 naming it, after sending the lines before it', async () => {
    const io = captureIo('{"key":"k1","data":{"n":1}}\n{"key":"k2","data":"two"}\nnot json\n{"key":"k3","data":"never"}\n');
    expect(await runProgram(['put', '--stream', 'json', '--json', '--quiet', ...connection], io, commands)).toBe(2);
    expect(io.stderr()).toContain('done: 2 records');
    expect(io.stderr()).toContain('kinesis-kit put: line 3: not valid JSON');

    const tail = captureIo();
    await runProgram(['tail', '--stream', 'json', '--from', 'trim-horizon', '--limit', '2', ...connection], tail, commands);
    expect(tail.stdout()).toMatch(/ k1 \{"n":1\}\n.* k2 two\n$/);
  });

  /** The stream's records from trim-horizon, deaggregated, as tail --json prints them. */
  async function tailed(stream: string, limit: number): Promise<TailedJson[]> {
    const tail = captureIo();
    expect(await runProgram(['tail', '--stream', stream, '--from', 'trim-horizon', '--limit', String(limit), '--json', ...connection], tail, commands)).toBe(0);
    return tail.stdout().trim().split('\n').map((l) => JSON.parse(l) as TailedJson);
  }

  it('waits for the shard map before reading stdin, so every record is aggregated', async () => {
    const input = Array.from({ length: 1000 }, (_, i) => `record ${i}`).join('\n');
    const io = captureIo(`${input}\n`);
    expect(await runProgram(['put', '--stream', 'aggregated', '--quiet', ...connection], io, commands)).toBe(0);
    const records = await tailed('aggregated', 1000);
    expect(records).toHaveLength(1000);
    expect(records.filter((r) => !r.aggregated).map((r) => r.data)).toEqual([]);
  });

  it('splits input on "\\n" only ("\\r\\n" too) and sends a text line\'s bytes as they are', async () => {
    const input = Buffer.concat([Buffer.from('a\rb\r\nplain\n'), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from('last, no newline')]);
    const io = captureIo(new PassThrough().end(input));
    expect(await runProgram(['put', '--stream', 'bytes', '--quiet', ...connection], io, commands)).toBe(0);
    expect(io.stderr()).toMatch(/done: 4 records, 26 B, 4 acknowledged/);
    const data = (await tailed('bytes', 4)).map((r) => Buffer.from(r.data, r.encoding).toString('latin1'));
    expect(data.sort()).toEqual(['a\rb', 'last, no newline', 'plain', '\xff\xfe'].sort());
  });

  it('--json: a line the producer refuses (bad explicitHashKey, empty key) is a bad input line: exit 2, the lines before it sent', async () => {
    const first = captureIo('{"key":"k1","data":"one","explicitHashKey":"5"}\n{"key":"k2","data":"two","explicitHashKey":"-1"}\n{"key":"k3","data":"never"}\n');
    expect(await runProgram(['put', '--stream', 'hash-keys', '--json', '--quiet', ...connection], first, commands)).toBe(2);
    expect(first.stderr()).toMatch(/done: 1 records, .*1 acknowledged, \d+ throttled attempts, 0 failed\n/);
    expect(first.stderr()).toMatch(/kinesis-kit put: line 2: .*explicit ?hash ?key/i);

    const second = captureIo('{"key":"k4","data":"four"}\n{"key":"","data":"empty key"}\n');
    expect(await runProgram(['put', '--stream', 'hash-keys', '--json', '--quiet', ...connection], second, commands)).toBe(2);
    expect(second.stderr()).toMatch(/kinesis-kit put: line 2: .*partition ?key/i);
    expect((await tailed('hash-keys', 2)).map((r) => r.data)).toEqual(['one', 'four']);
  });

  it('a line over 1 MiB is a bad input line (exit 2), not a failed record', async () => {
    const io = captureIo(`short\n${'x'.repeat(1024 * 1024 + 1)}\nnever\n`);
    expect(await runProgram(['put', '--stream', 'lines', '--quiet', ...connection], io, commands)).toBe(2);
    expect(io.stderr()).toMatch(/done: 1 records, .* 1 acknowledged, .* 0 failed\n/);
    expect(io.stderr()).toContain('kinesis-kit put: line 2: longer than 1048576 bytes');
  });

  it('Ctrl-C while stdin is open but quiet: flushes what was read, prints the summary and exits 130', async () => {
    const before = activeResources();
    const stdin = new PassThrough();
    const io = captureIo(stdin);
    const running = runProgram(['put', '--stream', 'quiet', ...connection], io, commands);
    stdin.write('one\ntwo\nthree\n');
    await within(10_000, 'waiting for the progress line', (async () => {
      while (!io.stderr().includes('acknowledged 3')) await new Promise((r) => setTimeout(r, 50));
    })());
    stdin.write('four\n'); // read and sent before the abort is seen, or not read at all
    io.abort();
    expect(await within(5000, 'put after Ctrl-C', running)).toBe(130);
    expect(io.stderr()).toMatch(/done: ([34]) records, .*, \1 acknowledged, \d+ throttled attempts, 0 failed \(interrupted\)\n$/);
    expect(stdin.listenerCount('data')).toBe(0);
    expect(await leakedResources(before)).toEqual({});
  });

  it('exits 1 at once with a clear message when the stream does not exist, before reading stdin', async () => {
    const io = captureIo('x\n');
    expect(await runProgram(['put', '--stream', 'missing', '--quiet', ...connection], io, commands)).toBe(1);
    expect(io.stderr()).toBe('kinesis-kit put: stream "missing" was not found (Stream missing under account 000000000000 not found.)\n');
  });

  it('an unreachable endpoint fails at once with the real error, not "Expired" after recordTtl', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const io = captureIo('x\n');
    const code = await within(10_000, 'put to an unreachable endpoint', runProgram(['put', '--stream', 'lines', '--quiet', '--endpoint', endpoint, '--region', 'us-east-1'], io, commands));
    expect(code).toBe(1);
    expect(io.stderr()).toBe(`kinesis-kit put: cannot reach ${endpoint} (ECONNREFUSED)\n`);
  });

  it('a missing region is a configuration error reported at once', async () => {
    const saved = { ...process.env };
    for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[name];
    process.env.AWS_CONFIG_FILE = '/nonexistent/kinesis-kit-test/config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/kinesis-kit-test/credentials';
    try {
      const io = captureIo('x\n');
      const code = await within(10_000, 'put without a region', runProgram(['put', '--stream', 'lines', '--quiet', '--endpoint', server.endpoint], io, commands));
      expect(code).toBe(1);
      expect(io.stderr()).toBe('kinesis-kit put: no AWS region: pass --region or set AWS_REGION (or a region in the profile)\n');
    } finally {
      process.env = saved;
    }
  });

  it('exits 2 on usage errors before touching AWS', async () => {
    const io = captureIo();
    expect(await runProgram(['put'], io, commands)).toBe(2);
    expect(io.stderr()).toBe('kinesis-kit put: --stream is required (see kinesis-kit put --help)\n');
    expect(await runProgram(['nope'], captureIo(), commands)).toBe(2);
  });
});
