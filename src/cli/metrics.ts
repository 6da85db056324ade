/** Text renderings of `metrics show`, `metrics diff` and `params diff`: plain or Markdown tables. */
import type { DiffReport, MetricsShow } from '../metrics/metrics.js';
import { diffTable, markdownTable, showTable, type Table } from '../metrics/table.js';
import { displayWidth } from './display-width.js';

export interface TableFlags {
  md: boolean;
  precision: number;
}

/** Columns two spaces apart, left-aligned, no borders (easy to copy, as DVC prints them). */
function plainTable(t: Table): string {
  if (t.rows.length === 0) return '';
  const all = [t.headers, ...t.rows];
  const widths = t.headers.map((_, i) => Math.max(...all.map((r) => displayWidth(r[i] ?? ''))));
  return all
    .map((r) =>
      r
        .map((c, i) =>
          i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - displayWidth(c)),
        )
        .join('  '),
    )
    .join('\n');
}

function render(t: Table, flags: TableFlags): string {
  if (t.rows.length === 0) return '';
  return flags.md ? `${markdownTable(t)}\n` : plainTable(t);
}

export function formatMetricsShow(show: MetricsShow, flags: TableFlags & { revisions: boolean }) {
  return render(showTable(show, flags), flags);
}

export function formatDiff(
  report: DiffReport,
  flags: TableFlags & { title: 'Metric' | 'Param'; noPath: boolean },
): string {
  return render(diffTable(report, { ...flags, changes: flags.title === 'Metric' }), flags);
}
