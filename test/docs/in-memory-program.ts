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
