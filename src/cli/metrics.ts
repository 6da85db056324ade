/** Text renderings of `metrics show`, `metrics diff` and `params diff`: plain or Markdown tables. */
import { pathToFileURL } from 'node:url';
import type { PlotsResult } from '../commands/plots.js';
import type { DiffReport, MetricsShow } from '../metrics/metrics.js';
import { diffTable, markdownTable, showTable, type Table } from '../metrics/table.js';
import { plainTable } from './table.js';

export interface TableFlags {
  md: boolean;
  precision: number;
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

/** The files written, and where the page is, as `dvc plots show` prints it. */
export function formatPlots(result: PlotsResult): string {
  const w = result.written;
  if (w === undefined) return '';
  if (result.plots.length === 0) return 'No plots in dvc.yaml (or the targets).';
  const lines: string[] = [];
  for (const p of w.plots) for (const f of [p.svg, p.png]) if (f !== undefined) lines.push(f);
  if (w.html !== undefined) lines.push(pathToFileURL(w.html).href);
  return lines.join('\n');
}

/** `--json`: per plot, DVC's `{type, revisions, content | url}` entries. */
export function plotsJson(result: PlotsResult): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const p of result.plots) {
    const w = result.written?.plots.find((x) => x.id === p.id);
    if (p.kind === 'vega') {
      out[p.id] = [
        {
          type: 'vega',
          revisions: p.revisions,
          content: p.spec,
          ...(w?.svg === undefined ? {} : { svg: w.svg }),
          ...(w?.png === undefined ? {} : { png: w.png }),
        },
      ];
    } else {
      out[p.id] = p.images.map((img, i) => ({
        type: 'image',
        revisions: [img.rev],
        url: w?.images[i]?.file ?? img.file,
      }));
    }
  }
  return out;
}
