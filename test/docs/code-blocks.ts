/**
 * The TypeScript code blocks of the Markdown docs, turned into modules the compiler can check.
 * Most blocks are fragments: they use our classes without importing them and names the prose
 * around them introduces (`consumer`, `order`). The checker compiles each block once as written,
 * then again with an import for every unresolved name one of our packages exports and a typed
 * declaration for every unresolved name in FRAGMENT_NAMES.
 */

export interface CodeBlock {
  /** The Markdown file, relative to the repository. */
  file: string;
  /** Line of the opening fence (1-based). */
  line: number;
  code: string;
}

/** Fenced blocks whose info string is `ts` or `typescript`. */
export function findCodeBlocks(file: string, markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*(ts|typescript)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith(`${indent}${fence}`)) body.push(lines[j++]!.slice(indent!.length));
    blocks.push({ file, line: i + 1, code: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** One export of a workspace package, as the compiler sees it. */
export interface PackageExport {
  module: string;
  /** True for types and interfaces (imported with `import type`). */
  typeOnly: boolean;
}

/**
 * What the docs' fragments use without declaring, and what each stands for. A fragment that uses
 * a name neither declared, exported by a package nor listed here fails the check: add it here.
 */
export const FRAGMENT_NAMES: Readonly<Record<string, string>> = {
  producer: 'KinesisProducer',
  consumer: 'KinesisConsumer',
  server: 'MockServer',
  checkpointer: 'Checkpointer',
  record: 'UserRecord',
  sequenceNumber: 'string',
  state: 'Uint8Array',
  eachBatch: 'EachBatchHandler',
  order: '{ customerId: string; total: number }',
  orders: '{ customerId: string; total: number }[]',
  handle: '(value: unknown) => Promise<void>',
  processRecord: '(record: UserRecord) => Promise<void>',
  event: '{ Records: LambdaKinesisEventRecord[] }',
  deadLetterQueue: '{ send(records: readonly UserRecord[]): Promise<void> }',
  log: '{ warn(fields: object, message: string): void }',
  alarm: '(...details: unknown[]) => void',
  workerRole: 'unknown',
};

/** A block without import or export statements is a fragment of a function body (it may `return`). */
export function isModuleBlock(code: string): boolean {
  return /^\s*(import|export)\s/m.test(code);
}

/**
 * The block as a module. `unresolved` are the names the compiler could not find in the block as
 * written: each gets an import when a package exports it, else a declaration from FRAGMENT_NAMES.
 * A block that declares an interface or type alias one of our packages exports (a doc showing a
 * shape) gets a check that the two are assignable both ways.
 */
export function snippetModule(code: string, exports: ReadonlyMap<string, PackageExport>, unresolved: Iterable<string> = []): string {
  const imports = new Map<string, string[]>();
  const addImport = (module: string, entry: string): void => {
    const list = imports.get(module) ?? [];
    if (!list.includes(entry)) list.push(entry);
    imports.set(module, list);
  };
  const importExport = (name: string): void => {
    const where = exports.get(name);
    if (where) addImport(where.module, where.typeOnly ? `type ${name}` : name);
  };
  const declarations: string[] = [];
  for (const name of unresolved) {
    if (exports.has(name)) {
      importExport(name);
    } else if (Object.hasOwn(FRAGMENT_NAMES, name)) {
      const type = FRAGMENT_NAMES[name]!;
      declarations.push(`declare const ${name}: ${type};`);
      for (const typeName of type.match(/\b[A-Z]\w*/g) ?? []) importExport(typeName);
    }
  }
  const shapeChecks: string[] = [];
  for (const [, name] of code.matchAll(/^\s*(?:export\s+)?(?:interface|type)\s+(\w+)/gm)) {
    const where = exports.get(name!);
    if (!where?.typeOnly) continue;
    const actual = `Actual_${name}`;
    addImport(where.module, `type ${name} as ${actual}`);
    shapeChecks.push(`{ const actual = null as unknown as ${actual}; const documented: ${name} = actual; const back: ${actual} = documented; void back; }`);
  }
  const importLines = [...imports].map(([module, names]) => `import { ${names.join(', ')} } from '${module}';`);
  const body = isModuleBlock(code)
    ? [code, ...shapeChecks]
    : ['export async function snippet(): Promise<unknown> {', code, ...shapeChecks, 'return undefined;', '}'];
  return [...importLines, ...declarations, ...body, 'export {};', ''].join('\n');
}
