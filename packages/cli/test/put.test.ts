import { activeResources, leakedResources } from '@kinesis-kit/core';
import { startMockServer, type MockServer } from '@kinesis-kit/mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProgram } from '../src/program.js';
import { putCommand } from '../src/commands/put.js';
import { tailCommand } from '../src/commands/tail.js';
import { captureIo } from './io.js';

const commands = { put: async () => putCommand, tail: async () => tailCommand };

describe('kinesis-kit put', () => {
  let server: MockServer;
  let connection: string[];

  beforeAll(async () => {
    server = await startMockServer({ streams: [{ name: 'lines', shardCount: 2 }, { name: 'json', shardCount: 1 }] });
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

  it('exits 1 with a clear message when the stream does not exist', async () => {
    const io = captureIo('x\n');
    expect(await runProgram(['put', '--stream', 'missing', '--quiet', ...connection], io, commands)).toBe(1);
    expect(io.stderr()).toMatch(/1 failed\n\s+1 x .*missing/);
  });

  it('exits 2 on usage errors before touching AWS', async () => {
    const io = captureIo();
    expect(await runProgram(['put'], io, commands)).toBe(2);
    expect(io.stderr()).toBe('kinesis-kit put: --stream is required (see kinesis-kit put --help)\n');
    expect(await runProgram(['nope'], captureIo(), commands)).toBe(2);
  });
});
