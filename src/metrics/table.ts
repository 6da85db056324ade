/**
 * Metrics and params as table rows, the way DVC's `compare.py` lays them out (cells rounded to
 * a precision, `-` for a missing value), and as GitHub-flavoured Markdown tables for `--md`
 * and reports.
 */
import { pythonFloatRepr } from '../core/python-json.js';
import type { DiffReport, MetricsShow } from './metrics.js';
import { flatten } from './values.js';

/** DVC rounds floats to 5 digits after the point unless told otherwise. */
export const DEFAULT_PRECISION = 5;
const FILL = '-';

export interface Table {
  headers: string[];
  rows: string[][];
}

/** Python's `str(round(v, precision))` for floats, `str(v)` for the rest. */
export function formatValue(v: unknown, precision: number): string {
  if (v === null || v === undefined) return FILL;
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
    return pythonFloatRepr(Math.abs(v) < 1e21 ? Number(v.toFixed(precision)) : v);
  }
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/**
 * `metrics diff` / `params diff` rows: Path, the key column (`Metric` or `Param`), the two
 * revisions, and `Change` when `changes` (params leave it out, as DVC does).
 */
export function diffTable(
  report: DiffReport,
  o: { title: string; precision: number; changes: boolean; noPath: boolean },
): Table {
  const headers = ['Path', o.title, report.a, report.b, ...(o.changes ? ['Change'] : [])];
  const rows: string[][] = [];
  for (const [file, changes] of Object.entries(report.diff)) {
    for (const [key, c] of Object.entries(changes)) {
      const row = [file, key, formatValue(c.old, o.precision), formatValue(c.new, o.precision)];
      if (o.changes) row.push(formatValue(c.diff, o.precision));
      rows.push(row);
    }
  }
  if (!o.noPath) return { headers, rows };
  return { headers: headers.slice(1), rows: rows.map((r) => r.slice(1)) };
}

/** `metrics show` rows: one per revision and file, a column per flattened key (sorted). */
export function showTable(show: MetricsShow, o: { precision: number; revisions: boolean }): Table {
  const keys = new Set<string>();
  const records: { rev: string; file: string; values: Record<string, unknown> }[] = [];
  for (const [rev, { data }] of Object.entries(show)) {
    for (const [file, { data: tree }] of Object.entries(data)) {
      const values = flatten(tree);
      for (const k of Object.keys(values)) keys.add(k);
      records.push({ rev, file, values });
    }
  }
  const columns = [...keys].sort();
  const headers = [...(o.revisions ? ['Revision'] : []), 'Path', ...columns];
  const rows = records.map((r) => [
    ...(o.revisions ? [r.rev] : []),
    r.file,
    ...columns.map((c) => formatValue(r.values[c], o.precision)),
  ]);
  return { headers, rows };
}

/** GitHub-flavoured Markdown: `| a | b |` rows under a `|---|` rule, cells padded. */
export function markdownTable(t: Table): string {
  const escape = (s: string): string => s.replace(/\|/g, '\\|');
  const widths = t.headers.map((h, i) =>
    Math.max(3, escape(h).length, ...t.rows.map((r) => escape(r[i] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => escape(c).padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    line(t.headers),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...t.rows.map(line),
  ].join('\n');
}
