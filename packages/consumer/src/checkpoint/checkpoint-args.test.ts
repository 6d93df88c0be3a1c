import { describe, expect, it } from 'vitest';
import { InvalidCheckpointError } from '../errors.js';
import { parseCheckpointArgs, parsePrepareCheckpointArgs } from './checkpoint-args.js';

const where = { leaseKey: 'shardId-1', shardId: 'shardId-1' };

describe('parseCheckpointArgs', () => {
  it('reads (), (seq), (seq, sub) and (record)', () => {
    expect(parseCheckpointArgs([], where)).toEqual({});
    expect(parseCheckpointArgs(['123'], where)).toEqual({ position: { sequenceNumber: '123', subSequenceNumber: 0 } });
    expect(parseCheckpointArgs(['123', 4], where)).toEqual({ position: { sequenceNumber: '123', subSequenceNumber: 4 } });
    const record = { partitionKey: 'p', data: new Uint8Array(), sequenceNumber: '9', subSequenceNumber: 2, aggregated: true };
    expect(parseCheckpointArgs([record], where)).toEqual({ position: { sequenceNumber: '9', subSequenceNumber: 2 } });
    expect(parseCheckpointArgs(['SHARD_END'], where)).toEqual({ position: { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 } });
  });

  it.each([[['TRIM_HORIZON']], [['']], [['1e5']], [['-1']], [['1', -1]], [['1', 0.5]], [['1', '2']], [[42]], [[null]], [[{ seq: '1' }]]])(
    'rejects %o as malformed',
    (args) => {
      expect(() => parseCheckpointArgs(args, where)).toThrow(InvalidCheckpointError);
      try {
        parseCheckpointArgs(args, where);
      } catch (e) {
        expect(e).toMatchObject({ reason: 'malformed', code: 'INVALID_CHECKPOINT', shardId: 'shardId-1' });
      }
    },
  );
});

describe('parsePrepareCheckpointArgs', () => {
  const state = new Uint8Array([1, 2]);
  it('reads the application state as the last argument of every form', () => {
    expect(parsePrepareCheckpointArgs([], where)).toEqual({});
    expect(parsePrepareCheckpointArgs([state], where)).toEqual({ applicationState: state });
    expect(parsePrepareCheckpointArgs(['5', 1, state], where)).toEqual({ position: { sequenceNumber: '5', subSequenceNumber: 1 }, applicationState: state });
    expect(parsePrepareCheckpointArgs(['5', undefined, state], where)).toEqual({ position: { sequenceNumber: '5', subSequenceNumber: 0 }, applicationState: state });
    expect(parsePrepareCheckpointArgs([{ sequenceNumber: '6', subSequenceNumber: 3 }, state], where)).toEqual({
      position: { sequenceNumber: '6', subSequenceNumber: 3 },
      applicationState: state,
    });
  });

  it('rejects state in the wrong place', () => {
    expect(() => parsePrepareCheckpointArgs([state, '5'], where)).toThrow(InvalidCheckpointError);
  });
});
