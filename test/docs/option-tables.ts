/**
 * Reading the cells of the docs' option tables: defaults (`51200`, `5 MiB`, `100 ms`, `` `'wait'` ``)
 * and ranges (`1..500`, `64..10 MiB`, `≥ 100, `Infinity` allowed`, `'wait' \| 'reject'`).
 */

/** A number with an optional unit: `5 MiB` is 5242880, `100 ms` is 100. */
function quantity(text: string): number | undefined {
  const m = /^(\d+)(?: (MiB|ms))?$/.exec(text.trim());
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'MiB' ? 1048576 : 1);
}

/** A default cell's value when it states a literal: `51200`, `5242880 (5 MiB)`, `8 MiB`, `100 ms`, `150 (%)`, `` `true` ``, `` `'LATEST'` ``, `` `Infinity` ``, unlimited. */
export function statedDefault(cell: string): { value: unknown } | undefined {
  const number = quantity(cell.replace(/ \(.*\)$/, ''));
  if (number !== undefined) return { value: number };
  if (cell === 'unlimited') return { value: Infinity };
  const code = /^`([^`]+)`(?: \(.*\))?$/.exec(cell)?.[1];
  if (code === undefined) return undefined;
  if (code === 'true' || code === 'false') return { value: code === 'true' };
  if (code === 'Infinity') return { value: Infinity };
  if (/^'[^']*'$/.test(code)) return { value: code.slice(1, -1) };
  if (/^\d+$/.test(code)) return { value: Number(code) };
  return undefined;
}

/** The options a row documents (`a` / `b`, `a`, `b`) paired with their default cells (`1 / 2 ms` pairs up: times share the unit). */
export function documentedOptions(row: string[]): [string, string][] {
  const names = [...row[0]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!);
  const defaults = row[1]!.split(/ \/ |, /);
  const unit = row[1]!.endsWith(' ms') ? ' ms' : '';
  return names.map((name, i) => {
    if (names.length === 1) return [name, row[1]!];
    const cell = defaults.length === names.length ? defaults[i]! : '';
    return [name, /^\d+$/.test(cell) ? cell + unit : cell];
  });
}

export type StatedRange =
  | { kind: 'interval'; min: number; max: number; infinityAllowed: boolean }
  | { kind: 'choice'; values: string[] };

/** A range cell: `1..500`, `64..10 MiB`, `≥ 0`, `≥ 100, `Infinity` allowed`, `'wait' \| 'reject'`, `none \| summary`. */
export function statedRange(cell: string): StatedRange | undefined {
  const infinityAllowed = /`Infinity` allowed/.test(cell);
  const head = cell.replace(/,\s*`Infinity` allowed/, '').trim();
  const interval = /^(.+)\.\.(.+)$/.exec(head);
  if (interval) {
    const min = quantity(interval[1]!);
    const max = quantity(interval[2]!);
    if (min !== undefined && max !== undefined) return { kind: 'interval', min, max, infinityAllowed };
  }
  const atLeast = /^≥ (.+)$/.exec(head);
  if (atLeast) {
    const min = quantity(atLeast[1]!);
    if (min !== undefined) return { kind: 'interval', min, max: Infinity, infinityAllowed };
  }
  if (head.includes('\\|')) return { kind: 'choice', values: head.split('\\|').map((v) => v.trim().replace(/^`?'?|'?`?$/g, '')) };
  return undefined;
}
