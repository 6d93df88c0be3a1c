/**
 * Shared bits of the chaos suite: the profile (`CHAOS_PROFILE=long` for `npm run test:chaos`, else the short
 * profile that runs inside `npm test`), the seed (`CHAOS_SEED`, else a fixed default; always printed) and a
 * tiny summary-table printer.
 */

/** True for the long profile (`npm run test:chaos` sets CHAOS_PROFILE=long). */
export function isLongProfile(): boolean {
  return process.env.CHAOS_PROFILE === 'long';
}

/** The run's seed: CHAOS_SEED when it is an integer, else `fallback`. */
export function chaosSeed(fallback: number): number {
  const raw = process.env.CHAOS_SEED;
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`CHAOS_SEED must be an integer, got "${raw}"`);
  return n;
}

/** Prints a title, the seed (to repeat the run: CHAOS_SEED=<seed>) and a two-column table to stdout. */
export function printChaosReport(title: string, seed: number, rows: Record<string, string | number>): void {
  const entries = Object.entries(rows).map(([k, v]) => [k, typeof v === 'number' ? v.toLocaleString('en-US') : v] as const);
  const keyWidth = Math.max(6, ...entries.map(([k]) => k.length));
  const valueWidth = Math.max(5, ...entries.map(([, v]) => v.length));
  const rule = `+-${'-'.repeat(keyWidth)}-+-${'-'.repeat(valueWidth)}-+`;
  const lines = [
    '',
    `== ${title} (profile ${isLongProfile() ? 'long' : 'short'}, seed ${seed}; repeat with CHAOS_SEED=${seed}) ==`,
    rule,
    ...entries.map(([k, v]) => `| ${k.padEnd(keyWidth)} | ${v.padStart(valueWidth)} |`),
    rule,
  ];
  console.log(lines.join('\n'));
}
