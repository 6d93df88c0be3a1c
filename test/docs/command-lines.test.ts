import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runProgram } from '@kinesis-kit/cli';
import { MOCK_CLI_USAGE, parseCliOptions } from '@kinesis-kit/mock';
import type * as NodeUtil from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../packages/cli/src/commands/registry.js';
import { captureIo } from '../../packages/cli/test/io.js';
import { findCommandLines } from './command-lines.js';
import { markdownFiles, repositoryRoot } from './markdown-files.js';

/**
 * The command lines in the docs and each command's --help agree with the parsers: every flag the
 * docs show is accepted, with a value where it takes one, and every flag a parser accepts is in its
 * command's --help. Each line is parsed with `--help` added, so nothing runs.
 */

/** The option tables the commands hand to util.parseArgs, in call order (the parser itself is the real one). */
const parsed = vi.hoisted(() => [] as NonNullable<NodeUtil.ParseArgsConfig['options']>[]);
vi.mock('node:util', async (importOriginal) => {
  const util = await importOriginal<typeof NodeUtil>();
  return {
    ...util,
    parseArgs: (config: NodeUtil.ParseArgsConfig) => {
      if (config.options) parsed.push(config.options);
      return util.parseArgs(config);
    },
  };
});

/** Parses `kinesis-kit <args>` (or `kinesis-kit-mock <args>` when mock) with --help: undefined when accepted, else the error. */
async function rejection(args: string[], mock = false): Promise<string | undefined> {
  if (mock || args[0] === 'mock') {
    try {
      return parseCliOptions([...(mock ? args : args.slice(1)), '--help']) === 'help' ? undefined : 'not parsed as --help';
    } catch (err) {
      return String(err);
    }
  }
  const io = captureIo();
  const code = await runProgram([...args, '--help'], io, { ...COMMANDS });
  return code === 0 ? undefined : io.stderr().trim();
}

async function helpOf(command: string): Promise<string> {
  if (command === 'mock') return MOCK_CLI_USAGE;
  const io = captureIo();
  expect(await runProgram([command, '--help'], io, { ...COMMANDS })).toBe(0);
  return io.stdout();
}

/**
 * The flags a usage text lists, as the arguments they stand for: from lines such as
 * `  --flag <value>   text`, `  --from start|end   text` or `  --a <x> --b <y>   text`.
 */
function usageFlags(usage: string): string[][] {
  const flags: string[][] = [];
  for (const [, synopsis] of usage.matchAll(/^\s+(--\S.*?)(?:\s{2,}|$)/gm)) {
    const words = synopsis!.split(' ');
    for (let i = 0; i < words.length; i++) {
      if (!words[i]!.startsWith('--')) continue;
      const value = words[i + 1];
      flags.push(value !== undefined && !value.startsWith('--') ? [words[i]!, value] : [words[i]!]);
    }
  }
  return flags;
}

describe('command lines in the docs', () => {
  it('every kinesis-kit and kinesis-kit-mock line in the docs and READMEs parses', async () => {
    const lines = markdownFiles().flatMap((file) => findCommandLines(file, readFileSync(path.join(repositoryRoot, file), 'utf8')));
    expect(lines.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const { file, line, program, args } of lines) {
      const why = await rejection(args, program === 'kinesis-kit-mock');
      if (why !== undefined) problems.push(`${file}:${line}: ${program} ${args.join(' ')}\n  ${why}`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it("each command's --help lists flags its parser accepts, with a value where it takes one", async () => {
    const problems: string[] = [];
    for (const command of Object.keys(COMMANDS)) {
      const flags = usageFlags(await helpOf(command));
      expect(flags.length, command).toBeGreaterThan(0);
      for (const flag of flags) {
        const why = await rejection([command, ...flag]);
        if (why !== undefined) problems.push(`${command} ${flag.join(' ')}: ${why}`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it("each command's --help lists every flag its parser accepts, with a value exactly where it takes one", async () => {
    const problems: string[] = [];
    for (const command of Object.keys(COMMANDS)) {
      parsed.length = 0;
      const usage = new Map(usageFlags(await helpOf(command)).map(([flag, value]) => [flag!, value !== undefined]));
      if (command === 'mock') parseCliOptions(['--help']);
      const options = parsed.at(-1);
      if (!options) throw new Error(`${command} did not call parseArgs`);
      for (const [name, option] of Object.entries(options)) {
        if (name === 'help') continue;
        const takesValue = option.type === 'string';
        const listed = usage.get(`--${name}`);
        if (listed === undefined) problems.push(`${command}: --${name} is not in --help`);
        else if (listed !== takesValue) problems.push(`${command}: --${name} ${takesValue ? 'takes a value' : 'takes none'}, --help says otherwise`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it("the flags docs/cli.md names in a command's section are in that command's --help", async () => {
    const text = readFileSync(path.join(repositoryRoot, 'docs/cli.md'), 'utf8');
    const sections = text.split(/^## `(\w+)`.*$/m);
    // sections: [intro, name1, body1, name2, body2, ...]; the intro names the flags every AWS command takes.
    const named: [string, string][] = [['tail', sections[0]!]];
    for (let i = 1; i + 1 < sections.length; i += 2) named.push([sections[i]!, sections[i + 1]!]);
    expect(named.map(([command]) => command).sort()).toEqual([...Object.keys(COMMANDS), 'tail'].sort());
    const problems: string[] = [];
    for (const [command, body] of named) {
      const help = await helpOf(command);
      for (const [flag] of body.matchAll(/(?<![\w-])--[a-z][\w-]*/g)) {
        if (flag === '--help') continue;
        if (!new RegExp(`(^|\\s)${flag}(\\s|$)`, 'm').test(help)) problems.push(`## ${command}: ${flag} is not in kinesis-kit ${command} --help`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

describe('findCommandLines', () => {
  it('reads commands from shell blocks and inline code, and leaves output, other programs and other languages alone', () => {
    const markdown = [
      'Run `npm start -- --fanout` or `kinesis-kit mock --port 1 [--no-limits] [--from a|b]`.',
      '```console',
      '$ env -u AWS_PROFILE kinesis-kit tail --stream \'no spaces\'',
      'kinesis-kit tail: --stream: not valid',
      '```',
      '```bash',
      'git clone <repo> kinesis-kit && cd kinesis-kit',
      'seq 1 3 | npx kinesis-kit put --stream s \\',
      '  --json   # comment --ignored',
      'npm ci && npm start',
      '```',
      '```ts',
      "run('kinesis-kit demo --nope');",
      '```',
    ].join('\n');
    expect(findCommandLines('x.md', markdown)).toEqual([
      { file: 'x.md', line: 1, program: 'kinesis-kit', args: ['demo', '--fanout'] },
      { file: 'x.md', line: 1, program: 'kinesis-kit', args: ['mock', '--port', '1', '--no-limits', '--from', 'a/b'] },
      { file: 'x.md', line: 3, program: 'kinesis-kit', args: ['tail', '--stream', 'no spaces'] },
      { file: 'x.md', line: 8, program: 'kinesis-kit', args: ['put', '--stream', 's', '--json'] },
      { file: 'x.md', line: 10, program: 'kinesis-kit', args: ['demo'] },
    ]);
  });
});
