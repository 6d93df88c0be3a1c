import { describe, expect, it } from 'vitest';
import { Input, STREAM_NAME_RULE } from './input.js';

describe('Input', () => {
  it('throws SerializationException for malformed JSON and wrong member types', () => {
    expect(() => Input.parse('{')).toThrow(expect.objectContaining({ awsName: 'SerializationException' }));
    expect(() => Input.parse('"text"')).toThrow(expect.objectContaining({ awsName: 'SerializationException' }));
    expect(() => Input.parse('{"Limit":"5"}').integer('Limit')).toThrow(expect.objectContaining({ awsName: 'SerializationException' }));
    expect(Input.parse('').raw).toEqual({});
  });

  it('collects constraint violations into one ValidationException with AWS member paths', () => {
    const input = Input.parse(JSON.stringify({ StreamName: '', Records: [{ PartitionKey: 'k'.repeat(300) }] }));
    input.string('StreamName', { ...STREAM_NAME_RULE, required: true });
    const records = input.array('Records', { max: 500 })!;
    const el = input.element('Records', 0, records[0]);
    el.string('PartitionKey', { max: 256 });
    el.string('Data', { required: true });
    let message = '';
    try {
      input.done();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^4 validation errors detected: /);
    expect(message).toContain("Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1");
    expect(message).toContain("at 'records.1.member.partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256");
    expect(message).toContain("Value null at 'records.1.member.data' failed to satisfy constraint: Member must not be null");
  });

  it('reads timestamps as epoch seconds', () => {
    expect(Input.parse('{"T":1700000000.5}').timestampMs('T')).toBe(1_700_000_000_500);
  });
});
