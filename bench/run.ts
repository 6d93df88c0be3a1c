/**
 * `npm run bench [-- suite...] [-- --quick]`: runs the benchmark suites (bench/<name>/index.ts, each
 * exporting `suite: BenchSuite`), prints one table, writes bench/results/latest.json and bench/RESULTS.md.
 */
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { machineInfo, markdownTable, ratio, type BenchSuite, type BenchSuiteResult } from './lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const wanted = args.filter((a) => !a.startsWith('--'));

const entries = await readdir(here, { withFileTypes: true });
const names = entries
  .filter((e) => e.isDirectory() && e.name !== 'results')
  .map((e) => e.name)
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();

const results: BenchSuiteResult[] = [];
for (const name of names) {
  const file = path.join(here, name, 'index.ts');
  const mod = (await import(pathToFileURL(file).href)) as { suite?: BenchSuite };
  if (!mod.suite) continue;
  process.stdout.write(`running ${name}...\n`);
  const result = await mod.suite.run({ quick });
  results.push(result);
  for (const note of result.notes ?? []) process.stdout.write(`  note: ${note}\n`);
}

const table = markdownTable(results);
process.stdout.write(`\n${table}\n`);
const machine = machineInfo();
const date = new Date().toISOString();
await mkdir(path.join(here, 'results'), { recursive: true });
const json = {
  date,
  machine,
  quick,
  suites: results.map((r) => ({ ...r, rows: r.rows.map((row) => ({ ...row, ratio: ratio(row) })) })),
};
if (wanted.length === 0 && !quick) {
  await writeFile(path.join(here, 'results', 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  const md = [
    '# Benchmark results',
    '',
    `Measured ${date} on ${machine.cpus} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}.`,
    'Each figure is beside its peer measured in the same run. Regenerate with `npm run bench`.',
    '',
    table,
    '',
    ...results.flatMap((r) => (r.notes ?? []).map((n) => `- ${r.suite}: ${n}`)),
    '',
  ].join('\n');
  await writeFile(path.join(here, 'RESULTS.md'), md);
} else {
  await writeFile(path.join(here, 'results', `partial-${names.join('+')}.tmp.json`), `${JSON.stringify(json, null, 2)}\n`);
}
