import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The Markdown users read, relative to the repository: the READMEs and docs/. */
export function markdownFiles(): string[] {
  const docs = readdirSync(path.join(repositoryRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  const readmes = readdirSync(path.join(repositoryRoot, 'packages'))
    .map((p) => `packages/${p}/README.md`)
    .filter((f) => existsSync(path.join(repositoryRoot, f)));
  return ['README.md', ...readmes, ...docs];
}
