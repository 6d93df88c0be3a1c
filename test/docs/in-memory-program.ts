import path from 'node:path';
import ts from 'typescript';
import { repositoryRoot } from './markdown-files.js';

/** The repository's compiler options (tsconfig.base.json: strict, NodeNext, the source condition), emitting nothing. */
export function repositoryCompilerOptions(): ts.CompilerOptions {
  const configPath = path.join(repositoryRoot, 'tsconfig.base.json');
  const config = ts.readConfigFile(configPath, (f) => ts.sys.readFile(f));
  const parsed = ts.parseJsonConfigFileContent({ ...config.config, files: [] }, ts.sys, repositoryRoot, undefined, configPath);
  return { ...parsed.options, noEmit: true, declaration: false, declarationMap: false, sourceMap: false };
}

/** A program over in-memory files (absolute paths inside the repository, so packages resolve as from a test). */
export function inMemoryProgram(files: ReadonlyMap<string, string>, options = repositoryCompilerOptions(), oldProgram?: ts.Program): ts.Program {
  const host = ts.createCompilerHost(options);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, language, onError, create) => {
    const text = files.get(f);
    return text === undefined ? getSourceFile.call(host, f, language, onError, create) : ts.createSourceFile(f, text, language, true);
  };
  return ts.createProgram([...files.keys()], options, host, oldProgram);
}

/** Exported types of the workspace packages as the compiler sees them, with the checker to inspect them. */
export function exportedTypes(types: readonly { module: string; type: string }[]): { checker: ts.TypeChecker; types: ts.Type[] } {
  const file = path.join(repositoryRoot, 'test/docs/.snippets/exported-types.ts');
  const text = types.map((t, i) => `import type { ${t.type} as T${i} } from '${t.module}';\nexport type Documented${i} = T${i};`).join('\n');
  const program = inMemoryProgram(new Map([[file, text]]));
  const checker = program.getTypeChecker();
  const aliases = program.getSourceFile(file)!.statements.filter(ts.isTypeAliasDeclaration);
  return { checker, types: aliases.map((alias) => checker.getTypeAtLocation(alias)) };
}

/** The property names of each exported type (for a union: the properties all members share). */
export function typePropertyNames(types: readonly { module: string; type: string }[]): string[][] {
  const { checker, types: resolved } = exportedTypes(types);
  return resolved.map((type) => checker.getPropertiesOfType(type).map((p) => p.name));
}
