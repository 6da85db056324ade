/**
 * `cairn report`: one Markdown page for a pull request, as CML reports are written: the
 * metrics and params diff against a base branch, the plots as PNG images beside the page
 * (linked relatively, so `cairn comment` can upload them), the pipeline's stage status, and the
 * ModelKit packed from this state, if any.
 */
import path from 'node:path';
import { toPosix } from '../core/fs.js';
import type { DiffReport } from './metrics.js';
import type { WrittenPlots } from './plot-files.js';
import { diffTable, markdownTable, DEFAULT_PRECISION } from './table.js';

/** A stage and what changed in it, as `cairn status --json` reports it. */
export type StageStatus = Record<string, unknown[]>;

/** A ModelKit in the local store whose provenance matches the workspace. */
export interface PackedKit {
  digest: string;
  references: string[];
  /** why it is this state's: the same dvc.lock, or packed at the same commit */
  matched: 'dvc.lock' | 'commit';
}

export interface ReportInput {
  base: string;
  /** the commit `base` names */
  baseCommit: string;
  metrics: DiffReport;
  params: DiffReport;
  plots: WrittenPlots | undefined;
  /** the folder the Markdown file is written in: image links are relative to it */
  reportDir: string;
  status: StageStatus;
  kit: PackedKit | undefined;
}

function table(report: DiffReport, title: 'Metric' | 'Param', empty: string): string {
  const t = diffTable(report, {
    title,
    precision: DEFAULT_PRECISION,
    changes: title === 'Metric',
    noPath: false,
  });
  return t.rows.length === 0 ? empty : markdownTable(t);
}

/** A status item as one readable phrase: `changed deps: data.csv (modified)`. */
function statusPhrase(item: unknown): string {
  if (typeof item === 'string') return item;
  if (item === null || typeof item !== 'object') return String(item);
  return Object.entries(item)
    .map(([what, paths]) => {
      const detail = Object.entries(paths as Record<string, unknown>)
        .map(
          ([p, s]) =>
            `\`${p}\` (${
              typeof s === 'string'
                ? s
                : Object.entries(s as Record<string, string>)
                    .map(([k, v]) => `${k}: ${v}`)
                    .join(', ')
            })`,
        )
        .join(', ');
      return `${what}: ${detail}`;
    })
    .join('; ');
}

export function renderReport(r: ReportInput): string {
  const out: string[] = ['# Cairn report', ''];
  out.push(`Compared with \`${r.base}\` (${r.baseCommit.slice(0, 7)}).`, '');
  out.push('## Metrics', '', table(r.metrics, 'Metric', 'No metrics.'), '');
  out.push('## Params', '', table(r.params, 'Param', 'No params changed.'), '');
  out.push('## Plots', '');
  const images = r.plots?.plots ?? [];
  if (images.length === 0) out.push('No plots.', '');
  for (const p of images) {
    const files = p.png !== undefined ? [p.png] : p.images.map((i) => i.file);
    for (const f of files)
      out.push(`![${p.id}](${encodeURI(toPosix(path.relative(r.reportDir, f)))})`, '');
  }
  out.push('## Pipeline', '');
  const stages = Object.entries(r.status);
  if (stages.length === 0) out.push('Data and pipelines are up to date.', '');
  else {
    for (const [stage, items] of stages)
      out.push(`- \`${stage}\`: ${items.map(statusPhrase).join('; ')}`);
    out.push('');
  }
  out.push('## ModelKit', '');
  if (r.kit === undefined) out.push('No ModelKit was packed from this state.', '');
  else {
    const refs =
      r.kit.references.length > 0 ? ` (${r.kit.references.map((x) => `\`${x}\``).join(', ')})` : '';
    const why =
      r.kit.matched === 'dvc.lock' ? 'packed from this dvc.lock' : 'packed at this commit';
    out.push(`\`${r.kit.digest}\`${refs}, ${why}.`, '');
  }
  return out.join('\n');
}
