import { MOCK_CLI_USAGE, runMockCli } from '@kinesis-kit/mock';
import type { CommandIo } from './command.js';

const USAGE = MOCK_CLI_USAGE.replace('kinesis-kit-mock', 'kinesis-kit mock');

/** `kinesis-kit mock`: the same program as `kinesis-kit-mock`; runs until SIGINT/SIGTERM. */
export async function mockCommand(argv: string[], _io: CommandIo): Promise<number> {
  await runMockCli(argv, USAGE);
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
