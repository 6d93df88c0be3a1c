import type { ConsumerState } from '../model.js';
import { EMPTY, epochSeconds, readPageSize, type ApiContext, type ApiResult } from './context.js';
import type { Input} from './input.js';
import { CONSUMER_ARN_RULE, CONSUMER_NAME_RULE, STREAM_ARN_RULE } from './input.js';
import { invalidArgument } from '../errors.js';

/** Consumers per ListStreamConsumers page at most (see readPageSize). */
const LIST_CONSUMERS_PAGE_CAP = 100;

function consumerJson(c: ConsumerState, status = c.status): Record<string, unknown> {
  return { ConsumerName: c.name, ConsumerARN: c.arn, ConsumerStatus: status, ConsumerCreationTimestamp: epochSeconds(c.createdAtMs) };
}

function readConsumerRef(input: Input): { consumerArn?: string; streamArn?: string; consumerName?: string } {
  const ref = {
    streamArn: input.string('StreamARN', STREAM_ARN_RULE),
    consumerName: input.string('ConsumerName', CONSUMER_NAME_RULE),
    consumerArn: input.string('ConsumerARN', CONSUMER_ARN_RULE),
  };
  input.done();
  return ref;
}

export function registerStreamConsumer(input: Input, { engine }: ApiContext): ApiResult {
  const streamArn = input.string('StreamARN', { ...STREAM_ARN_RULE, required: true });
  const name = input.string('ConsumerName', { ...CONSUMER_NAME_RULE, required: true });
  const tags = input.stringMap('Tags');
  input.done();
  const { consumer, statusAtCreation } = engine.registerConsumer(streamArn, name);
  for (const [k, v] of Object.entries(tags ?? {})) consumer.tags.set(k, v);
  return { json: { Consumer: consumerJson(consumer, statusAtCreation) } };
}

export function describeStreamConsumer(input: Input, { engine }: ApiContext): ApiResult {
  const consumer = engine.findConsumer(readConsumerRef(input));
  return { json: { ConsumerDescription: { ...consumerJson(consumer), StreamARN: consumer.stream.arn } } };
}

export function deregisterStreamConsumer(input: Input, { engine }: ApiContext): ApiResult {
  engine.deregisterConsumer(readConsumerRef(input));
  return EMPTY;
}

export function listStreamConsumers(input: Input, { engine }: ApiContext): ApiResult {
  const streamArn = input.string('StreamARN', { ...STREAM_ARN_RULE, required: true });
  const nextToken = input.string('NextToken', { min: 1, max: 1048576 });
  const maxResults = readPageSize(input, 'MaxResults', LIST_CONSUMERS_PAGE_CAP);
  const creation = input.timestampMs('StreamCreationTimestamp');
  input.done();
  const stream = engine.findStream({ streamArn });
  if (creation !== undefined && Math.floor(creation / 1000) !== Math.floor(stream.createdAtMs / 1000)) {
    throw invalidArgument('StreamCreationTimestamp does not match the stream.');
  }
  let after: string | undefined;
  if (nextToken !== undefined) {
    after = Buffer.from(nextToken, 'base64').toString('utf8');
    if (after === '') throw invalidArgument('NextToken is invalid.');
  }
  const all = [...stream.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).filter((c) => after === undefined || c.name > after);
  const page = all.slice(0, maxResults);
  const more = all.length > page.length;
  return {
    json: {
      Consumers: page.map((c) => consumerJson(c)),
      ...(more ? { NextToken: Buffer.from(page[page.length - 1]!.name, 'utf8').toString('base64') } : {}),
    },
  };
}
