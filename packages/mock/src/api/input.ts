import { serializationError, validationError } from '../errors.js';

/** The lower-camel member path AWS uses in validation messages (`StreamName` -> `streamName`). */
export function memberPath(key: string): string {
  return key.charAt(0).toLowerCase() + key.slice(1);
}

interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** The pattern as AWS prints it in messages. */
  patternText?: string;
  values?: readonly string[];
}

interface NumberRule {
  required?: boolean;
  min?: number;
  max?: number;
}

const shown = (v: unknown): string => (typeof v === 'string' && v.length > 100 ? `${v.slice(0, 97)}...` : String(v));

/**
 * Reads a request's JSON members the way the service does: a member of the wrong JSON type is a
 * SerializationException at once; constraint violations are collected and reported together as
 * one ValidationException ("N validation errors detected: ...").
 */
export class Input {
  constructor(
    readonly raw: Record<string, unknown>,
    private readonly prefix = '',
    private readonly errors: string[] = [],
  ) {}

  static parse(body: Buffer | string): Input {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return new Input({});
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw serializationError('Start of structure or map found where not expected.');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw serializationError('Start of structure or map found where not expected.');
    }
    return new Input(parsed as Record<string, unknown>);
  }

  /** Adds a constraint violation for `key` (reported by done()). */
  fail(key: string, value: unknown, constraint: string): void {
    this.errors.push(`Value ${value === undefined ? 'null' : `'${shown(value)}'`} at '${this.prefix}${memberPath(key)}' failed to satisfy constraint: ${constraint}`);
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined && this.raw[key] !== null;
  }

  string(key: string, rule: StringRule & { required: true }): string;
  string(key: string, rule?: StringRule): string | undefined;
  string(key: string, rule: StringRule = {}): string | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) {
      if (rule.required) this.fail(key, undefined, 'Member must not be null');
      return undefined;
    }
    if (typeof v !== 'string') throw serializationError(`Unexpected value type for member ${key}: expected a string.`);
    if (rule.min !== undefined && v.length < rule.min) this.fail(key, v, `Member must have length greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && v.length > rule.max) this.fail(key, v, `Member must have length less than or equal to ${rule.max}`);
    if (rule.pattern && !rule.pattern.test(v)) this.fail(key, v, `Member must satisfy regular expression pattern: ${rule.patternText ?? rule.pattern.source}`);
    if (rule.values && !rule.values.includes(v)) this.fail(key, v, `Member must satisfy enum value set: [${rule.values.join(', ')}]`);
    return v;
  }

  integer(key: string, rule: NumberRule = {}): number | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) {
      if (rule.required) this.fail(key, undefined, 'Member must not be null');
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) throw serializationError(`Unexpected value type for member ${key}: expected an integer.`);
    if (rule.min !== undefined && v < rule.min) this.fail(key, v, `Member must have value greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && v > rule.max) this.fail(key, v, `Member must have value less than or equal to ${rule.max}`);
    return v;
  }

  boolean(key: string): boolean | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw serializationError(`Unexpected value type for member ${key}: expected a boolean.`);
    return v;
  }

  /** A timestamp member: epoch seconds (what the SDK sends); returns epoch ms. */
  timestampMs(key: string, rule: { required?: boolean } = {}): number | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) {
      if (rule.required) this.fail(key, undefined, 'Member must not be null');
      return undefined;
    }
    if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1000);
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return Date.parse(v);
    throw serializationError(`Unexpected value type for member ${key}: expected a timestamp.`);
  }

  object(key: string, rule: { required?: boolean } = {}): Input | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) {
      if (rule.required) this.fail(key, undefined, 'Member must not be null');
      return undefined;
    }
    if (typeof v !== 'object' || Array.isArray(v)) throw serializationError(`Unexpected value type for member ${key}: expected a structure.`);
    return new Input(v as Record<string, unknown>, `${this.prefix}${memberPath(key)}.`, this.errors);
  }

  /** An element of a list member, read with the list's member path (`records.3.member.`). */
  element(key: string, index: number, value: unknown): Input {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw serializationError(`Unexpected value type for member ${key}: expected a list of structures.`);
    }
    return new Input(value as Record<string, unknown>, `${this.prefix}${memberPath(key)}.${index + 1}.member.`, this.errors);
  }

  /** A map of string to string (tags). */
  stringMap(key: string, rule: { required?: boolean } = {}): Record<string, string> | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) {
      if (rule.required) this.fail(key, undefined, 'Member must not be null');
      return undefined;
    }
    if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
      throw serializationError(`Unexpected value type for member ${key}: expected a map of strings.`);
    }
    return v as Record<string, string>;
  }

  array(key: string, rule: { required?: boolean; min?: number; max?: number } = {}): unknown[] | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) {
      if (rule.required) this.fail(key, undefined, 'Member must not be null');
      return undefined;
    }
    if (!Array.isArray(v)) throw serializationError(`Unexpected value type for member ${key}: expected a list.`);
    const list = v as unknown[];
    if (rule.min !== undefined && list.length < rule.min) this.fail(key, `[${list.length} items]`, `Member must have length greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && list.length > rule.max) this.fail(key, `[${list.length} items]`, `Member must have length less than or equal to ${rule.max}`);
    return list;
  }

  /** Throws the collected ValidationException, if any. */
  done(): void {
    if (this.errors.length === 0) return;
    const n = this.errors.length;
    throw validationError(`${n} validation error${n === 1 ? '' : 's'} detected: ${this.errors.join('; ')}`);
  }
}

export const STREAM_NAME_RULE = { min: 1, max: 128, pattern: /^[a-zA-Z0-9_.-]+$/, patternText: '[a-zA-Z0-9_.-]+' } as const;
export const STREAM_ARN_RULE = {
  min: 1,
  max: 2048,
  pattern: /^arn:aws.*:kinesis:.*:\d{12}:stream\/\S+$/,
  patternText: 'arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+',
} as const;
export const SHARD_ID_RULE = { min: 1, max: 128, pattern: /^[a-zA-Z0-9_.-]+$/, patternText: '[a-zA-Z0-9_.-]+' } as const;
export const CONSUMER_NAME_RULE = { min: 1, max: 128, pattern: /^[a-zA-Z0-9_.-]+$/, patternText: '[a-zA-Z0-9_.-]+' } as const;
export const CONSUMER_ARN_RULE = {
  min: 1,
  max: 2048,
  pattern: /^arn:aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+$/,
  patternText: '^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+',
} as const;
export const SEQUENCE_NUMBER_RULE = { pattern: /^(0|[1-9]\d{0,128})$/, patternText: '0|([1-9]\\d{0,128})' } as const;
export const HASH_KEY_RULE = { pattern: /^(0|[1-9]\d{0,38})$/, patternText: '0|([1-9]\\d{0,38})' } as const;
