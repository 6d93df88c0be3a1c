/** A Markdown table under its nearest heading: `index` counts the tables under that heading from 0. */
export interface MarkdownTable {
  heading: string;
  index: number;
  /** Line of the header row (1-based). */
  line: number;
  header: string[];
  rows: { line: number; cells: string[] }[];
}

export function findTables(markdown: string): MarkdownTable[] {
  const tables: MarkdownTable[] = [];
  const lines = markdown.split('\n');
  let heading = '';
  let index = 0;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const title = /^#+\s+(.*)$/.exec(text);
    if (title) {
      heading = title[1]!.trim();
      index = 0;
      continue;
    }
    if (!text.startsWith('|') || !/^\|[\s:|-]+\|\s*$/.test(lines[i + 1] ?? '')) continue;
    const table: MarkdownTable = { heading, index: index++, line: i + 1, header: cells(text), rows: [] };
    for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) table.rows.push({ line: i + 1, cells: cells(lines[i]!) });
    tables.push(table);
  }
  return tables;
}

/** The cells of a table row; `|` inside backticks does not split (`'a' | 'b'`). */
function cells(row: string): string[] {
  const out: string[] = [];
  let cell = '';
  let inCode = false;
  for (const ch of row.trim().slice(1, -1)) {
    if (ch === '`') inCode = !inCode;
    if (ch === '|' && !inCode) {
      out.push(cell.trim());
      cell = '';
    } else {
      cell += ch;
    }
  }
  out.push(cell.trim());
  return out;
}
