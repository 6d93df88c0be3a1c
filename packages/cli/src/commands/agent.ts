import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidRecordError, KinesisProducer } from '@kinesis-kit/producer';
import { backoffDelay, sleep, untilAborted } from '@kinesis-kit/core';
import { FileFollower } from '../agent/file-follower.js';
import { PositionStore } from '../agent/position-store.js';
import { createAwsClients } from '../aws-clients.js';
import { describeError, UsageError } from '../cli-error.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionOptions, positiveNumber, requireStreamName } from '../connection-args.js';
import { BadLineError, parseInputLine, type LineFormat, type LineRecord } from '../input-line.js';
import { ifPermanent, requireRegion, waitForShardMap } from '../producer-ready.js';
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
restart re-sends at most the last unacknowledged batch. Failed batches are retried with backoff; a
line that can never be a record (bad JSON, an invalid key, over 1 MiB) is reported and skipped.`;

/** The most of a line shown in a message. */
const EXCERPT_CHARS = 60;

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
  const context = { streamName, ...(values.endpoint !== undefined ? { endpoint: values.endpoint } : {}) };
  const clients = createAwsClients(connectionOptions(values));
  let producer: KinesisProducer | undefined;
  let shippedLines = 0;
  let skippedLines = 0;
  let failedBatches = 0;
  const skip = (what: string, reason: string): void => {
    skippedLines++;
    io.err(`agent: skipped ${what}: ${reason}\n`);
  };

  /**
   * Ships a batch until every line is acknowledged or skipped. A line that can never be a record
   * (bad JSON; rejected by the producer's validation: key, explicit hash key, size) is reported and
   * skipped, so the position moves past it; every other failure is retried. Ctrl-C ends the wait at
   * once (rejecting), so the position does not move past lines Kinesis has not acknowledged.
   */
  const ship = async (lines: Buffer[]): Promise<void> => {
    let records = lines.flatMap((line) => {
      try {
        return [{ line, record: parseInputLine(line, 0, format, values.key) }];
      } catch (err) {
        skip(`a line (${excerpt(line)})`, err instanceof BadLineError ? err.reason : describeError(err));
        return [];
      }
    });
    for (let attempt = 0; records.length > 0; attempt++) {
      const outcomes = await untilAborted(Promise.allSettled(records.map((r) => producer!.put(r.record))), io.signal);
      const retry: { line: Buffer; record: LineRecord }[] = [];
      let reason: unknown;
      outcomes.forEach((outcome, i) => {
        const r = records[i]!;
        if (outcome.status === 'fulfilled') shippedLines++;
        else if (outcome.reason instanceof InvalidRecordError) skip(`a line (${excerpt(r.line)})`, outcome.reason.message);
        else {
          reason ??= outcome.reason;
          retry.push(r);
        }
      });
      if (retry.length === 0) return;
      failedBatches++;
      io.err(`agent: ${retry.length} record(s) failed (${describeError(reason, context)}); retrying\n`);
      records = retry;
      await sleep(backoffDelay(attempt, { baseMs: 500, maxMs: 30_000 }), io.signal);
    }
  };

  const follower = new FileFollower({
    path: file,
    store: new PositionStore(values.checkpoint ?? `${file}.kinesis-kit-position`),
    ship,
    onLongLine: ({ offset, bytes }) => skip(`a line of ${bytes} bytes at byte ${offset}`, 'longer than 1 MiB, the most a Kinesis record holds'),
    initialPosition: values.from,
    pollIntervalMs,
  });
  try {
    await requireRegion(clients.kinesis);
    producer = new KinesisProducer({ streamName, kinesisClient: clients.kinesis });
    // Lines are read once the shards are known, so they are aggregated and rate-limited per shard.
    // Network trouble is waited out (reported once per distinct reason); what waiting cannot fix
    // (no such stream, no credentials, access denied) stops the agent.
    let lastReason: string | undefined;
    const ready = await waitForShardMap(producer, io.signal, {
      giveUp: ifPermanent,
      onRetry: (error) => {
        const reason = describeError(error, context);
        if (reason !== lastReason) io.err(`agent: waiting for the stream's shards: ${reason}\n`);
        lastReason = reason;
      },
    });
    if (ready) {
      io.err(`agent: following ${file} into ${streamName}\n`);
      await follower.run(io.signal);
    }
  } catch (err) {
    if (!io.signal.aborted) throw err;
  } finally {
    // Stopped: records still unacknowledged are abandoned at once (their lines are after the saved
    // position, so they are sent again at the next start) instead of waiting up to recordTtl.
    await producer?.close({ signal: io.signal });
    clients.destroy();
  }
  io.err(`agent: stopped; ${shippedLines} lines shipped, ${skippedLines} skipped, ${failedBatches} batch retries\n`);
  return 0;
}

/** The start of a line for a message (decoded as UTF-8 for display only). */
function excerpt(line: Buffer): string {
  const text = line.toString('utf8', 0, Math.min(line.length, EXCERPT_CHARS * 4));
  const cut = text.length > EXCERPT_CHARS || line.length > EXCERPT_CHARS * 4;
  return JSON.stringify(cut ? `${text.slice(0, EXCERPT_CHARS)}...` : text);
}
