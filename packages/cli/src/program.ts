import { describeError } from './cli-error.js';
import type { Command, CommandIo } from './commands/command.js';

export const PROGRAM_USAGE = `Usage: kinesis-kit <command> [options]   (kinesis-kit <command> --help for its options)

Commands:
  demo      a producer -> stream -> two consumer workers pipeline with a split and a failover, verified
  mock      run the mock Kinesis + DynamoDB server
  put       read lines (or JSON lines {key, data}) from stdin into a stream
  tail      print a stream's records, deaggregated, with shard, sequence and sub-sequence
  leases    show a KCL application's lease table
  agent     follow a growing log file into a stream (survives rotation, remembers its position)`;

/**
 * Runs one command and returns the process exit code. Errors become one clear line on stderr
 * (no stack), with exit code 2 for bad usage and 1 for failures.
 */
export async function runProgram(argv: string[], io: CommandIo, commands: Record<string, () => Promise<Command>>): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(`${PROGRAM_USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    io.err(`unknown command "${name}"\n${PROGRAM_USAGE}\n`);
    return 2;
  }
  try {
    const command = await load();
    return await command(rest, io);
  } catch (err) {
    const exitCode = isUsageMistake(err) ? 2 : 1;
    const usageHint = exitCode === 2 ? ` (see kinesis-kit ${name} --help)` : '';
    io.err(`kinesis-kit ${name}: ${describeError(err, flagContext(rest))}${usageHint}\n`);
    return exitCode;
  }
}

/**
 * Bad usage (exit code 2): our UsageError (exitCode 2), and the flag mistakes node:util's parseArgs
 * reports (unknown option, missing or unexpected value, unexpected positional: ERR_PARSE_ARGS_*).
 */
function isUsageMistake(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  if ('exitCode' in err && err.exitCode === 2) return true;
  return 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS_');
}

function flagContext(argv: string[]): { endpoint?: string; streamName?: string } {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    if (i >= 0) return argv[i + 1];
    return argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  };
  const endpoint = value('--endpoint');
  const streamName = value('--stream');
  return { ...(endpoint !== undefined ? { endpoint } : {}), ...(streamName !== undefined ? { streamName } : {}) };
}
