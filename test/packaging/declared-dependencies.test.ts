/**
 * Every package that is imported by a package's shipped code is in that package's `dependencies`
 * (or peer/optional ones), and nothing there goes unused. In the workspace every dependency is
 * hoisted to the root, so an undeclared one works here and fails only for users who install the
 * package from npm.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const packagesDir = path.join(root, 'packages');

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Source files that end up in dist and are loaded by users: not tests, not test helpers. */
function shippedSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !/\.test(-helpers)?\.ts$|\.test\.ts$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Bare package names a source imports (static, type-only, dynamic, require), with `node:` builtins left out. */
function importedPackages(source: string): Set<string> {
  const names = new Set<string>();
  for (const match of source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\(\s*)['"]([^'"]+)['"]/g)) {
    const specifier = match[1]!;
    if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
    const parts = specifier.split('/');
    names.add(specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return names;
}

const packages = readdirSync(packagesDir, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

describe('declared dependencies', () => {
  it('finds the imports it is meant to find', () => {
    const found = importedPackages(
      [
        "import { a } from '@scope/pkg/sub';",
        "import type { B } from 'plain-pkg';",
        "import 'side-effect';",
        "const m = await import('dynamic-pkg');",
        "createRequire(import.meta.url)('x'); require('required-pkg/lib');",
        "import { c } from './local.js'; import http from 'node:http';",
      ].join('\n'),
    );
    expect([...found].sort()).toEqual(['@scope/pkg', 'dynamic-pkg', 'plain-pkg', 'required-pkg', 'side-effect']);
  });

  it.each(packages)('%s: what its code imports is declared, and what is declared is imported', (name) => {
    const dir = path.join(packagesDir, name);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest;
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
    ]);
    const used = new Map<string, string>();
    for (const file of shippedSources(path.join(dir, 'src'))) {
      for (const pkg of importedPackages(readFileSync(file, 'utf8'))) if (!used.has(pkg)) used.set(pkg, path.relative(root, file));
    }
    const undeclared = [...used].filter(([pkg]) => !declared.has(pkg)).map(([pkg, file]) => `${pkg} (${file})`);
    const unused = [...declared].filter((pkg) => !used.has(pkg));
    expect({ undeclared, unused }).toEqual({ undeclared: [], unused: [] });
  });
});
