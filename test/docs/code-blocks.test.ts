import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { findCodeBlocks, snippetModule, type CodeBlock, type PackageExport } from './code-blocks.js';
import { inMemoryProgram, repositoryCompilerOptions } from './in-memory-program.js';
import { markdownFiles, repositoryRoot } from './markdown-files.js';

/**
 * Type-checks every TypeScript block in the docs and READMEs against the packages' sources, so an
 * option, field, event or export renamed in code cannot stay behind in the docs. How fragments are
 * completed: code-blocks.ts. Everything the compiler reports is a failure, except what
 * allowedInFragment lets through.
 */
const snippetDir = path.join(repositoryRoot, 'test/docs/.snippets');
/** Where a name several packages export is imported from: the first in this order. */
const PACKAGES = ['core', 'aggregation', 'producer', 'consumer', 'mock', 'cli'].map((p) => `@kinesis-kit/${p}`);

/** Every export of the workspace packages, with the package that exports it (first in PACKAGES order). */
function packageExports(options: ts.CompilerOptions): Map<string, PackageExport> {
  const file = path.join(snippetDir, 'exports.ts');
  const text = PACKAGES.map((p, i) => `import * as p${i} from '${p}';`).join('\n') + '\nexport {};\n';
  const program = inMemoryProgram(new Map([[file, text]]), options);
  const checker = program.getTypeChecker();
  const exports = new Map<string, PackageExport>();
  for (const statement of program.getSourceFile(file)!.statements) {
    if (!ts.isImportDeclaration(statement)) continue;
    const module = (statement.moduleSpecifier as ts.StringLiteral).text;
    const moduleSymbol = checker.getSymbolAtLocation(statement.moduleSpecifier);
    if (!moduleSymbol) throw new Error(`cannot resolve ${module}`);
    for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
      if (exports.has(symbol.name)) continue;
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      exports.set(symbol.name, { module, typeOnly: (target.flags & ts.SymbolFlags.Value) === 0 });
    }
  }
  return exports;
}

/** Names the compiler could not find: `Cannot find name 'x'` and shorthand properties with no value. */
const UNRESOLVED_NAME_CODES = new Set([2304, 2552, 18004]);

function unresolvedNames(program: ts.Program, source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const diagnostic of program.getSemanticDiagnostics(source)) {
    if (!UNRESOLVED_NAME_CODES.has(diagnostic.code) || diagnostic.start === undefined) continue;
    names.add(source.text.slice(diagnostic.start, diagnostic.start + (diagnostic.length ?? 0)));
  }
  return names;
}

/**
 * What a fragment may leave unchecked: a package the repository does not install (pino,
 * prom-client, aws-cdk-lib), and required properties left out behind a placeholder comment
 * (`// ...`, or the same in a block comment).
 */
function allowedInFragment(diagnostic: ts.Diagnostic, block: CodeBlock): boolean {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  const missingModule = /^Cannot find module '([^']+)'/.exec(message);
  if (missingModule) return !missingModule[1]!.startsWith('@kinesis-kit/') && !existsSync(path.join(repositoryRoot, 'node_modules', missingModule[1]!));
  return /\/[*/]\s*\.\.\./.test(block.code) && /(is|are) missing in type/.test(message);
}

describe('TypeScript blocks in the docs and READMEs', () => {
  it('type-check against the packages', () => {
    const options = repositoryCompilerOptions();
    const exports = packageExports(options);
    expect(exports.get('KinesisConsumer')).toEqual({ module: '@kinesis-kit/consumer', typeOnly: false });
    expect(exports.get('MetricsSink')).toEqual({ module: '@kinesis-kit/core', typeOnly: true });

    const blocks = new Map<string, CodeBlock>();
    for (const markdown of markdownFiles()) {
      for (const block of findCodeBlocks(markdown, readFileSync(path.join(repositoryRoot, markdown), 'utf8'))) {
        blocks.set(path.join(snippetDir, `${markdown.replaceAll('/', '__')}__L${block.line}.ts`), block);
      }
    }
    expect(blocks.size).toBeGreaterThan(20);

    // As written first, to learn each block's unresolved names; then with imports and declarations for them.
    const asWritten = new Map([...blocks].map(([file, block]) => [file, snippetModule(block.code, exports)]));
    const first = inMemoryProgram(asWritten, options);
    const completed = new Map([...blocks].map(([file, block]) => [file, snippetModule(block.code, exports, unresolvedNames(first, first.getSourceFile(file)!))]));
    const program = inMemoryProgram(completed, options, first);

    const problems: string[] = [];
    for (const [file, block] of blocks) {
      const source = program.getSourceFile(file)!;
      for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
        if (allowedInFragment(diagnostic, block)) continue;
        const { line } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
        const text = source.text.split('\n')[line]?.trim() ?? '';
        problems.push(`${block.file}:${block.line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ')}\n  at: ${text}`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  }, 120_000);
});

describe('code-blocks helpers', () => {
  it('finds ts blocks, indented ones in list items included, and skips other languages', () => {
    const markdown = ['# t', '```ts', 'const a = 1;', '```', '- item', '  ```typescript', '  const b = 2;', '  ```', '```bash', 'echo', '```'].join('\n');
    expect(findCodeBlocks('x.md', markdown)).toEqual([
      { file: 'x.md', line: 2, code: 'const a = 1;' },
      { file: 'x.md', line: 6, code: 'const b = 2;' },
    ]);
  });

  it('imports exported names, declares fragment names, and wraps a block without imports in a function', () => {
    const exports = new Map<string, PackageExport>([
      ['KinesisConsumer', { module: '@kinesis-kit/consumer', typeOnly: false }],
      ['Checkpointer', { module: '@kinesis-kit/consumer', typeOnly: true }],
    ]);
    const module = snippetModule('await checkpointer.checkpoint();\nreturn new KinesisConsumer(options);', exports, ['checkpointer', 'KinesisConsumer', 'options']);
    expect(module.split('\n')).toEqual([
      "import { type Checkpointer, KinesisConsumer } from '@kinesis-kit/consumer';",
      'declare const checkpointer: Checkpointer;',
      'export async function snippet(): Promise<unknown> {',
      'await checkpointer.checkpoint();',
      'return new KinesisConsumer(options);',
      'return undefined;',
      '}',
      'export {};',
      '',
    ]);
  });
});
