import { ConsumerConfigError } from './errors.js';

/** An integer option >= min; throws ConsumerConfigError naming the field. */
export function intOption(field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConsumerConfigError(field, `must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** A boolean option; throws ConsumerConfigError naming the field. */
export function boolOption(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConsumerConfigError(field, `must be a boolean, got ${String(value)}`);
  return value;
}
