/**
 * The commands' `bin` entries point at committed launchers, not into `dist/`: npm links a command
 * only when its file exists at install time, and a clone's `npm ci` runs before any build. With the
 * link in place npx runs our launcher, never a package of that name from the registry.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const COMMANDS = [
  { pkg: 'cli', command: 'kinesis-kit', program: 'dist/bin.js' },
  { pkg: 'mock', command: 'kinesis-kit-mock', program: 'dist/cli.js' },
] as const;

/** Runs `node file args`; resolves with the exit code and stderr. */
async function exitOf(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return run(process.execPath, [file, ...args]).then(
    ({ stderr }) => ({ code: 0, stderr }),
    (error: unknown) => error as { code: number; stderr: string },
  );
}

async function binOf(pkg: string, command: string): Promise<string> {
  const manifest = JSON.parse(await readFile(path.join(root, 'packages', pkg, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return manifest.bin[command]!;
}

describe.each(COMMANDS)('the $command command', ({ pkg, command, program }) => {
  it('is a launcher in the source tree, outside dist/', async () => {
    const bin = path.posix.normalize(await binOf(pkg, command));
    expect(bin.startsWith('dist/')).toBe(false);
    expect((await stat(path.join(root, 'packages', pkg, bin))).isFile()).toBe(true);
  });

  it('says how to build when dist/ is missing (exit 1), instead of a module-not-found trace', async () => {
    const bin = await binOf(pkg, command);
    const unbuilt = await mkdtemp(path.join(os.tmpdir(), 'kk-unbuilt-'));
    try {
      await cp(path.join(root, 'packages', pkg, bin), path.join(unbuilt, bin));
      const failure = await exitOf(path.join(unbuilt, bin), ['--help']);
      expect(failure.code).toBe(1);
      expect(failure.stderr).toBe(`${command} is not built: run \`npm run build\` (in this repository, \`npm run kinesis-kit -- ${pkg === 'mock' ? 'mock' : '<command>'}\` runs it from sources)\n`);
    } finally {
      await rm(unbuilt, { recursive: true, force: true });
    }
  });

  it('reports a missing dependency of the built program as itself, not as "not built"', async () => {
    const bin = await binOf(pkg, command);
    const broken = await mkdtemp(path.join(os.tmpdir(), 'kk-broken-'));
    try {
      await cp(path.join(root, 'packages', pkg, bin), path.join(broken, bin));
      await mkdir(path.join(broken, 'dist'));
      await writeFile(path.join(broken, program), "import 'kinesis-kit-no-such-package';\n");
      const failure = await exitOf(path.join(broken, bin), ['--help']);
      expect(failure.code).toBe(1);
      expect(failure.stderr).toContain("Cannot find package 'kinesis-kit-no-such-package'");
      expect(failure.stderr).not.toContain('is not built');
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});
