import { parseArgs } from 'node:util';
import { deregisterStreamConsumer, ensureStreamConsumer } from '@kinesis-kit/consumer';
import { silentLogger, systemClock } from '@kinesis-kit/core';
import { createAwsClients } from '../aws-clients.js';
import { UsageError } from '../cli-error.js';
import { CONNECTION_FLAGS, CONNECTION_USAGE, connectionOptions, requireStreamName } from '../connection-args.js';
import { formatRecordJson, formatRecordText } from '../tail/format-record.js';
import { ShardTailer, type TailPosition } from '../tail/shard-tailer.js';
import type { CommandIo } from './command.js';

export const TAIL_USAGE = `Usage: kinesis-kit tail --stream <name> [options]
  --stream <name>            the stream to read (nothing is written anywhere: no lease table)
  --from <position>          trim-horizon | latest (default) | an ISO timestamp
  --json                     one JSON object per record (data as UTF-8 text or base64)
  --limit <n>                stop after n records
  --fanout                   read with enhanced fan-out (registers a stream consumer, removed on exit)
  --consumer-name <name>     fan-out through this registered consumer instead (kept on exit)
${CONNECTION_USAGE}
Records are printed deaggregated: shard, sequence[/sub-sequence], partition key, data.`;

export function parsePosition(value: string | undefined): TailPosition {
  if (value === undefined || value === 'latest') return { type: 'LATEST' };
  if (value === 'trim-horizon') return { type: 'TRIM_HORIZON' };
  const timestamp = new Date(value);
  if (Number.isNaN(timestamp.getTime())) throw new UsageError(`--from: expected trim-horizon, latest or a timestamp, got "${value}"`);
  return { type: 'AT_TIMESTAMP', timestamp };
}

export async function tailCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stream: { type: 'string' },
      from: { type: 'string' },
      json: { type: 'boolean', default: false },
      limit: { type: 'string' },
      fanout: { type: 'boolean', default: false },
      'consumer-name': { type: 'string' },
      help: { type: 'boolean', default: false },
      ...CONNECTION_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    io.out(`${TAIL_USAGE}\n`);
    return 0;
  }
  const streamName = requireStreamName(values.stream);
  const from = parsePosition(values.from);
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit > 0)) throw new UsageError(`--limit: must be a positive number, got "${values.limit}"`);
  const clients = createAwsClients(connectionOptions(values));
  const done = new AbortController();
  const signal = AbortSignal.any([io.signal, done.signal]);
  let printed = 0;
  const fanOut = values.fanout || values['consumer-name'] !== undefined;
  // A consumer registered for this run is deregistered on exit; a named one is the user's.
  const temporaryConsumer = fanOut && values['consumer-name'] === undefined ? `kinesis-kit-tail-${process.pid}` : undefined;
  let consumerArn: string | undefined;
  try {
    if (fanOut) {
      consumerArn = await ensureStreamConsumer({
        kinesis: clients.kinesis,
        stream: { StreamName: streamName },
        consumerName: temporaryConsumer ?? values['consumer-name']!,
        clock: systemClock,
        random: Math.random,
        logger: silentLogger,
        signal,
      });
    }
    const tailer = new ShardTailer({
      kinesis: clients.kinesis,
      streamName,
      from,
      ...(consumerArn !== undefined ? { fanOutConsumerArn: consumerArn } : {}),
      onRecords: (records) => {
        for (const r of records) {
          if (printed >= limit) break;
          io.out(`${values.json ? formatRecordJson(r) : formatRecordText(r)}\n`);
          printed++;
        }
        if (printed >= limit) done.abort();
      },
    });
    await tailer.run(signal);
    return 0;
  } finally {
    if (temporaryConsumer !== undefined && consumerArn !== undefined) {
      await deregisterStreamConsumer(clients.kinesis, { consumerArn }).catch((err: unknown) => {
        io.err(`could not deregister the temporary stream consumer ${temporaryConsumer}: ${(err as Error).message}\n`);
      });
    }
    clients.destroy();
  }
}
