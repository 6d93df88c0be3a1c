import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KinesisProducer } from '@kinesis-kit/producer';
import { backoffDelay, sleep } from '@kinesis-kit/core';
import { FileFollower } from '../agent/file-follower.js';
import { PositionStore } from '../agent/position-store.js';
import { createAwsClients } from '../aws-clients.js';
import { UsageError } from '../cli-error.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionOptions, positiveNumber, requireStreamName } from '../connection-args.js';
import { parseInputLine, type LineFormat } from '../input-line.js';
import type { CommandIo } from './command.js';

export const AGENT_USAGE = `Usage: kinesis-kit agent --stream <name> --file <path> [options]
  --stream <name>            the stream to write to
  --file <path>              the log file to follow (rotation and truncation are handled)
  --checkpoint <path>        where the read position is kept (default: <file>.kinesis-kit-position)
  --from start|end           where to begin without a checkpoint (default: end, as the Kinesis Agent)
  --json                     lines are {"key", "data"} objects (default: text, random partition keys)
  --key <key>                partition key for every line (text mode)
  --poll-ms <n>              how often to look for new lines (default 250)
${CONNECTION_USAGE}
Runs until Ctrl-C. The position moves only after Kinesis acknowledged the lines before it, so a
restart re-sends at most the last unacknowledged batch. Failed batches are retried with backoff.`;

export async function agentCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stream: { type: 'string' },
      file: { type: 'string' },
      checkpoint: { type: 'string' },
      from: { type: 'string', default: 'end' },
      json: { type: 'boolean', default: false },
      key: { type: 'string' },
      'poll-ms': { type: 'string' },
      help: { type: 'boolean', default: false },
      ...CONNECTION_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    io.out(`${AGENT_USAGE}\n`);
    return 0;
  }
  const streamName = requireStreamName(values.stream);
  if (values.file === undefined) throw new UsageError('--file is required');
  if (values.from !== 'start' && values.from !== 'end') throw new UsageError(`--from: expected start or end, got "${values.from}"`);
  const file = resolve(values.file);
  const format: LineFormat = values.json ? 'json' : 'text';
  const pollIntervalMs = positiveNumber(values['poll-ms'], '--poll-ms', 250);
  const clients = createAwsClients(connectionOptions(values));
  const producer = new KinesisProducer({ streamName, kinesisClient: clients.kinesis });
  let shippedLines = 0;
  let skippedLines = 0;
  let failedBatches = 0;

  /** Ships a batch until every line is acknowledged; a bad JSON line is reported and skipped, not retried forever. */
  const ship = async (lines: string[]): Promise<void> => {
    let records = lines.flatMap((line, i) => {
      try {
        return [parseInputLine(line, i + 1, format, values.key)];
      } catch (err) {
        skippedLines++;
        io.err(`agent: skipped a line: ${(err as Error).message}\n`);
        return [];
      }
    });
    for (let attempt = 0; records.length > 0; attempt++) {
      const outcomes = await Promise.allSettled(records.map((r) => producer.put(r)));
      const failed = records.filter((_, i) => outcomes[i]?.status === 'rejected');
      shippedLines += records.length - failed.length;
      if (failed.length === 0) return;
      failedBatches++;
      const reason = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')?.reason as unknown;
      io.err(`agent: ${failed.length} record(s) failed (${reason instanceof Error ? reason.message : String(reason)}); retrying\n`);
      records = failed;
      await sleep(backoffDelay(attempt, { baseMs: 500, maxMs: 30_000 }), io.signal);
    }
  };

  const follower = new FileFollower({
    path: file,
    store: new PositionStore(values.checkpoint ?? `${file}.kinesis-kit-position`),
    ship,
    initialPosition: values.from,
    pollIntervalMs,
  });
  io.err(`agent: following ${file} into ${streamName}\n`);
  try {
    await follower.run(io.signal);
  } catch (err) {
    if (!io.signal.aborted) throw err;
  } finally {
    await producer.close();
    clients.destroy();
  }
  io.err(`agent: stopped; ${shippedLines} lines shipped, ${skippedLines} skipped, ${failedBatches} batch retries\n`);
  return 0;
}
