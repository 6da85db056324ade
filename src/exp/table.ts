/** `exp show`'s table: one column per metric and param, rows grouped under their baseline. */
import { CairnError } from '../core/errors.js';
import type { ExpRow, ShowData } from './show.js';
import type { Cell, FileValues } from './values.js';

export interface Column {
  kind: 'metrics' | 'params';
  file: string;
  key: string;
  /** the key, or `file:key` when two files share the key */
  label: string;
}

export interface TableRow {
  row: ExpRow;
  /** the tree drawing before the name: '' for the workspace and baselines */
  branch: '' | '├── ' | '└── ';
  /** one per column; undefined where the row has no such value */
  cells: (Cell | undefined)[];
}

export interface ExpTable {
  columns: Column[];
  rows: TableRow[];
}

export interface TableOptions {
  /** a column's label, key or `file:key` */
  sortBy?: string;
  sortOrder: 'asc' | 'desc';
  /** drop columns whose value is the same in every row that has it */
  onlyChanged: boolean;
}

function allRows(data: ShowData): ExpRow[] {
  return [
    ...(data.workspace === undefined ? [] : [data.workspace]),
    ...data.groups.flatMap((g) => [g.baseline, ...g.experiments]),
  ];
}

function columnsOf(rows: readonly ExpRow[], kind: 'metrics' | 'params'): Column[] {
  const seen = new Map<string, Column>();
  for (const row of rows) {
    const files: FileValues = row[kind];
    for (const [file, values] of Object.entries(files))
      for (const key of Object.keys(values)) {
        const id = `${file}\0${key}`;
        if (!seen.has(id)) seen.set(id, { kind, file, key, label: key });
      }
  }
  const cols = [...seen.values()];
  for (const c of cols)
    if (cols.some((o) => o !== c && o.key === c.key)) c.label = `${c.file}:${c.key}`;
  return cols;
}

function cellOf(row: ExpRow, c: Column): Cell | undefined {
  return row[c.kind][c.file]?.[c.key];
}

function compareCells(a: Cell | undefined, b: Cell | undefined): number {
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : 1; // blanks last
  if (b === undefined || b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

export function buildTable(data: ShowData, o: TableOptions): ExpTable {
  const rows = allRows(data);
  let columns = [...columnsOf(rows, 'metrics'), ...columnsOf(rows, 'params')];
  if (o.onlyChanged)
    // Rows without the value (a workspace that never ran) do not make a column "changed".
    columns = columns.filter(
      (c) =>
        new Set(
          rows.flatMap((r) => {
            const v = cellOf(r, c);
            return v === undefined ? [] : [JSON.stringify(v)];
          }),
        ).size > 1,
    );
  let sortColumn: Column | undefined;
  if (o.sortBy !== undefined) {
    const by = o.sortBy;
    const all = [...columnsOf(rows, 'metrics'), ...columnsOf(rows, 'params')];
    const matches = all.filter(
      (c) => c.label === by || `${c.file}:${c.key}` === by || c.key === by,
    );
    sortColumn = matches.length === 1 ? matches[0] : matches.find((c) => c.label === by);
    if (sortColumn === undefined)
      throw new CairnError(
        'bad-flag',
        `--sort-by ${by}: ${matches.length > 1 ? 'names several columns' : 'no such metric or param'}`,
        {
          hint: `Use one of: ${all.map((c) => `${c.file}:${c.key}`).join(', ') || '(no metrics or params found)'}.`,
        },
      );
  }
  const line = (row: ExpRow, branch: TableRow['branch']): TableRow => ({
    row,
    branch,
    cells: columns.map((c) => cellOf(row, c)),
  });
  const out: TableRow[] = [];
  if (data.workspace !== undefined) out.push(line(data.workspace, ''));
  for (const g of data.groups) {
    out.push(line(g.baseline, ''));
    const exps = [...g.experiments];
    const sc = sortColumn;
    if (sc !== undefined) {
      const sign = o.sortOrder === 'desc' ? -1 : 1;
      exps.sort((a, b) => {
        const x = cellOf(a, sc);
        const y = cellOf(b, sc);
        // blanks stay last whatever the order
        if (x === undefined || x === null || y === undefined || y === null)
          return compareCells(x, y);
        return sign * compareCells(x, y);
      });
    }
    exps.forEach((e, i) => out.push(line(e, i === exps.length - 1 ? '└── ' : '├── ')));
  }
  return { columns, rows: out };
}
