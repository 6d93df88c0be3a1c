import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { markdownFiles, repositoryRoot } from './markdown-files.js';

/** Every relative link in the docs and READMEs reaches a file of the repository, and its #anchor a heading there. */

/** GitHub's anchor for a heading: lowercase, punctuation dropped (hyphens and underscores kept), spaces to hyphens. */
function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings (outside code fences), with GitHub's -1, -2 suffixes for repeats. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    const heading = !inFence && /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = headingAnchor(heading[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** `[text](target)` links outside code, with their line. */
function linksOf(markdown: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  let inFence = false;
  markdown.split('\n').forEach((text, i) => {
    if (/^\s*```/.test(text)) inFence = !inFence;
    if (inFence) return;
    const withoutCode = text.replace(/`[^`]*`/g, '');
    for (const [, target] of withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) links.push({ line: i + 1, target: target! });
  });
  return links;
}

describe('links in the docs and READMEs', () => {
  it('every relative link reaches a file, and every #anchor a heading', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const file of markdownFiles()) {
      const source = path.join(repositoryRoot, file);
      for (const { line, target } of linksOf(readFileSync(source, 'utf8'))) {
        if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
        checked++;
        const [pathPart, anchor] = target.split('#') as [string, string | undefined];
        const resolved = pathPart === '' ? source : path.resolve(path.dirname(source), decodeURIComponent(pathPart));
        if (!resolved.startsWith(repositoryRoot) || !existsSync(resolved)) {
          problems.push(`${file}:${line}: ${target} does not exist`);
          continue;
        }
        if (anchor === undefined || statSync(resolved).isDirectory() || !resolved.endsWith('.md')) continue;
        if (!anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) problems.push(`${file}:${line}: ${target}: no heading for #${anchor}`);
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('the README links every page of docs/', () => {
    const readme = readFileSync(path.join(repositoryRoot, 'README.md'), 'utf8');
    const linked = new Set(linksOf(readme).map((l) => l.target.split('#')[0]));
    const pages = markdownFiles().filter((f) => f.startsWith('docs/'));
    expect(pages.filter((page) => !linked.has(page))).toEqual([]);
  });

  it('makes anchors as GitHub does', () => {
    expect(headingAnchor('HTTP/2, the receive window, and emulators')).toBe('http2-the-receive-window-and-emulators');
    expect(headingAnchor('`tail`')).toBe('tail');
    expect(headingAnchor('Where the consumer differs from the KCL')).toBe('where-the-consumer-differs-from-the-kcl');
  });
});
