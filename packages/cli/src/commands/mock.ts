import { MOCK_CLI_USAGE, MockConfigError, parseCliOptions, startMockServer, type MockServer } from '@kinesis-kit/mock';
import { UsageError } from '../cli-error.js';
import type { CommandIo } from './command.js';

const USAGE = MOCK_CLI_USAGE.replace('kinesis-kit-mock', 'kinesis-kit mock');

/**
 * `kinesis-kit mock`: the same options and output as `kinesis-kit-mock`; runs until Ctrl-C/SIGTERM
 * (`io.signal`), then closes the server and returns 0. A bad flag or value is bad usage (exit 2);
 * a server that cannot start (port in use) is a failure (exit 1).
 */
export async function mockCommand(argv: string[], io: CommandIo): Promise<number> {
  let server: MockServer;
  try {
    const options = parseCliOptions(argv);
    if (options === 'help') {
      io.out(`${USAGE}\n`);
      return 0;
    }
    server = await startMockServer(options);
  } catch (err) {
    // Options the server refuses come from the flags: --streams names, --subscription-duration-ms, ...
    if (err instanceof MockConfigError) throw new UsageError(err.message);
    throw err;
  }
  io.out(
    `kinesis-kit-mock listening on ${server.endpoint}\n` +
      `  AWS_ENDPOINT_URL=${server.endpoint} AWS_REGION=${server.region} ` +
      `AWS_ACCESS_KEY_ID=${server.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${server.credentials.secretAccessKey}\n`,
  );
  if (!io.signal.aborted) await new Promise((resolve) => io.signal.addEventListener('abort', resolve, { once: true }));
  io.out('shutting down\n');
  await server.close();
  return 0;
}
