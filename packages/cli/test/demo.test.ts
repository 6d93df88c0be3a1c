import { describe, expect, it } from 'vitest';
import { demoCommand, formatReport } from '../src/commands/demo.js';
import type { DemoReport } from '../src/demo/demo-pipeline.js';
import { runProgram } from '../src/program.js';
import { captureIo } from './io.js';

const commands = { demo: async () => demoCommand };

describe('kinesis-kit demo', () => {
  it.each([
    [['--duration', '0.5'], '--duration: must be between 1 and 3600 s, got 0.5'],
    [['--rate', '200000'], '--rate: must be between 1 and 100000 records/s, got 200000'],
    [['--shards', '65'], '--shards: must be between 1 and 64, got 65'],
  ])('a value out of range names the flag, in its units (%j)', async (flags, message) => {
    const io = captureIo();
    expect(await runProgram(['demo', ...flags], io, commands)).toBe(2);
    expect(io.stderr()).toBe(`kinesis-kit demo: ${message} (see kinesis-kit demo --help)\n`);
  });

  it('--json: stdout is the report alone (progress on stderr); Ctrl-C ends it as interrupted (130), not FAILED', async () => {
    const io = captureIo();
    const running = runProgram(['demo', '--json', '--duration', '30', '--shards', '1', '--rate', '50', '--keys', '5'], io, commands);
    const started = (): boolean => `${io.stdout()}${io.stderr()}`.includes('workers worker-a and worker-b started');
    for (const giveUpAt = Date.now() + 20_000; !started() && Date.now() < giveUpAt; ) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    io.abort();
    expect(await running).toBe(130);
    const report = JSON.parse(io.stdout()) as DemoReport;
    expect(report).toMatchObject({ interrupted: true, passed: false });
    expect(io.stderr()).toContain('interrupted: stopping after');
    expect(io.stderr()).not.toContain('gave up waiting');
    expect(formatReport(report)).toContain('\nverification: not done (interrupted)\n');
    expect(formatReport(report)).not.toContain('FAILED');
  });
});
