import { parseArgs } from 'node:util';
import { DEFAULTS, InvalidRecordError, KinesisProducer, type UserRecordResult } from '@kinesis-kit/producer';
import { createAwsClients } from '../aws-clients.js';
import { UsageError } from '../cli-error.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionOptions, requireStreamName } from '../connection-args.js';
import { BadLineError, parseInputLine, type LineFormat, type LineRecord } from '../input-line.js';
import { readInputLines } from '../input-lines.js';
import { requireRegion, unlessTransient, waitForShardMap } from '../producer-ready.js';
import { PutTally } from '../put-tally.js';
import type { CommandIo } from './command.js';

export const PUT_USAGE = `Usage: kinesis-kit put --stream <name> [options] < input
  --stream <name>            the stream to write to
  --json                     each line is {"key": "...", "data": <string | JSON>, "explicitHashKey"?: "..."}
  --key <key>                partition key for every line (text mode; default: a random UUID per line)
  --no-aggregation           one Kinesis record per line (default: KPL aggregation)
  --quiet                    no progress line
${CONNECTION_USAGE}
Input is split on "\\n" (a "\\r" before it is dropped); a text line's bytes are the record's data as they are.
Exits 0 when every record was acknowledged, 1 if any record failed, 2 on bad usage or a bad input line
(the lines before it are still sent), 130 when interrupted (what was read is still sent).`;

const MAX_PENDING = 10_000;
/** A record is at most 1 MiB with its partition key: a longer line can never be sent. */
const MAX_LINE_BYTES = DEFAULTS.maxUserRecordSize;
/** How long put waits for the stream's shard map before giving up (the producer's default recordTtl). */
const SHARD_MAP_TIMEOUT_MS = 30_000;

export async function putCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stream: { type: 'string' },
      json: { type: 'boolean', default: false },
      key: { type: 'string' },
      'no-aggregation': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      ...CONNECTION_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    io.out(`${PUT_USAGE}\n`);
    return 0;
  }
  const streamName = requireStreamName(values.stream);
  if (values.key !== undefined && (values.key.length === 0 || values.key.length > 256)) throw new UsageError('--key: must be 1-256 characters');
  const format: LineFormat = values.json ? 'json' : 'text';
  const clients = createAwsClients(connectionOptions(values));
  const tally = new PutTally({ streamName, ...(values.endpoint !== undefined ? { endpoint: values.endpoint } : {}) });
  const pending = new Set<Promise<void>>();
  let producer: KinesisProducer | undefined;
  let progress: NodeJS.Timeout | undefined;
  let badLine: BadLineError | undefined;
  try {
    await requireRegion(clients.kinesis);
    producer = new KinesisProducer({ streamName, kinesisClient: clients.kinesis, aggregationEnabled: !values['no-aggregation'] });
    // Reading starts once the shards are known, so every record is aggregated and rate-limited per
    // shard. A failure that waiting cannot fix (no such stream, no credentials, nothing listening at
    // the endpoint) ends put here, before any input is read.
    const ready = await waitForShardMap(producer, io.signal, { giveUp: unlessTransient, timeoutMs: SHARD_MAP_TIMEOUT_MS });
    if (ready) {
      if (!values.quiet) progress = setInterval(() => io.err(`${tally.progressLine()}${io.isTty ? '\r' : '\n'}`), 1000);
      for await (const line of readInputLines(io.stdin, { signal: io.signal, maxLineBytes: MAX_LINE_BYTES })) {
        if (line.bytes === undefined) {
          badLine = new BadLineError(line.lineNumber, `longer than ${MAX_LINE_BYTES} bytes, the most a Kinesis record holds`);
          break;
        }
        if (line.bytes.length === 0) continue;
        let record: LineRecord;
        try {
          record = parseInputLine(line.bytes, line.lineNumber, format, values.key);
        } catch (err) {
          badLine = err as BadLineError;
          break;
        }
        let invalid: InvalidRecordError | undefined;
        const settled: Promise<void> = producer.put(record).then(
          (result: UserRecordResult) => tally.succeeded(result),
          (err: unknown) => {
            if (err instanceof InvalidRecordError) invalid = err;
            else tally.failed(err);
          },
        );
        // put() rejects bad input (partition key, explicit hash key, size) with an already rejected
        // promise: its handler above runs before this await resumes, so such a line is a bad input
        // line (exit 2, nothing after it read) rather than a failed record.
        await Promise.resolve();
        if (invalid !== undefined) {
          badLine = new BadLineError(line.lineNumber, invalid.message);
          break;
        }
        tally.submitted(record.data.byteLength);
        pending.add(settled);
        void settled.finally(() => pending.delete(settled));
        // Bounded memory: stop reading stdin while this many records await their acknowledgement.
        if (pending.size >= MAX_PENDING) await Promise.race(pending);
      }
      // Interrupted or not, what was read is sent: flush and wait for every acknowledgement.
      await producer.flush();
      await Promise.all(pending);
    }
  } finally {
    if (progress) clearInterval(progress);
    await producer?.close();
    clients.destroy();
  }
  io.err(`${tally.summaryLine()}${io.signal.aborted ? ' (interrupted)' : ''}\n`);
  if (badLine !== undefined) throw badLine;
  if (tally.failures > 0) return 1;
  return io.signal.aborted ? 130 : 0;
}
