/**
 * The command lines the docs show for our two programs, `kinesis-kit` (also as `npm start --`, the
 * demo) and `kinesis-kit-mock`: in shell blocks and in inline code. Usage synopses count too:
 * `[--from start|end]` stands for `--from start/end`, and `<url>` for a value.
 */

export interface CommandLine {
  /** The Markdown file, relative to the repository, and the line the command is on. */
  file: string;
  line: number;
  program: 'kinesis-kit' | 'kinesis-kit-mock';
  args: string[];
}

const SHELL_FENCE = /^\s*```(bash|sh|shell|console)?\s*$/;

export function findCommandLines(file: string, markdown: string): CommandLine[] {
  const found: CommandLine[] = [];
  const lines = markdown.split('\n');
  let inShell = false;
  let inOtherFence = false;
  /** In a block that marks commands with `$ `, the other lines are their output. */
  let promptsOnly = false;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    if (/^\s*```/.test(text)) {
      if (inShell || inOtherFence) {
        inShell = inOtherFence = false;
      } else if (SHELL_FENCE.test(text)) {
        inShell = true;
        const end = lines.findIndex((l, k) => k > i && /^\s*```/.test(l));
        promptsOnly = lines.slice(i + 1, end < 0 ? undefined : end).some((l) => /^\s*\$ /.test(l));
      } else {
        inOtherFence = true;
      }
      continue;
    }
    if (inOtherFence) continue;
    const line = i + 1;
    if (inShell) {
      if (promptsOnly && !/^\s*\$ /.test(text)) continue;
      let command = text;
      while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1)} ${lines[++i]!}`;
      for (const invocation of invocations(command)) found.push({ file, line, ...invocation });
    } else {
      for (const [, span] of text.matchAll(/`((?:npx )?kinesis-kit(?:-mock)? [^`]+|npm start(?: -- [^`]*)?)`/g)) {
        for (const invocation of invocations(span!)) found.push({ file, line, ...invocation });
      }
    }
  }
  return found;
}

/** The invocations in one shell line: `a | kinesis-kit put ... && npm start # comment`. */
function invocations(command: string): Omit<CommandLine, 'file' | 'line'>[] {
  const out: Omit<CommandLine, 'file' | 'line'>[] = [];
  const synopsisFree = command.replace(/\[([^\]]*)\]/g, (_, inner: string) => inner.replaceAll('|', '/'));
  const withoutComment = synopsisFree.replace(/(^|\s)#.*$/, '');
  for (const segment of withoutComment.split(/\|\||&&|[|;&]/)) {
    const words = shellWords(segment.trim().replace(/^\$\s+/, ''));
    const npmStart = words.findIndex((w, k) => w === 'npm' && words[k + 1] === 'start');
    if (npmStart >= 0) {
      const rest = words.slice(npmStart + 2);
      out.push({ program: 'kinesis-kit', args: ['demo', ...(rest[0] === '--' ? rest.slice(1) : rest)] });
      continue;
    }
    // The program in command position: first, after npx, or after an `env ...` prefix.
    const at = words[0] === 'npx' ? 1 : words[0] === 'env' ? words.findIndex(isProgram) : 0;
    if (at < 0 || !isProgram(words[at])) continue;
    out.push({ program: words[at] as CommandLine['program'], args: words.slice(at + 1) });
  }
  return out;
}

function isProgram(word: string | undefined): boolean {
  return word === 'kinesis-kit' || word === 'kinesis-kit-mock';
}

/** Words as a shell splits them, for the quoting the docs use ('single', "double"). */
function shellWords(text: string): string[] {
  return [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}
