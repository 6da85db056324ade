/**
 * `plots show` and `plots diff`: each plot's data read at every revision, tagged with a `rev`
 * field and laid into one Vega-Lite spec per plot (several revisions overlay with a legend);
 * image plots are passed through per revision.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import type { CacheLayout } from '../data/cache.js';
import { isImage, parsePlotData, type PlotRecord } from './plot-data.js';
import { plotDefinitions, type PlotDef, type PlotOverrides, type PlotSource } from './plot-defs.js';
import { outputFiles, readDeclared, treeProject, type DeclaredFile } from './project.js';
import { openTree } from './revision.js';
import {
  builtinSpec,
  fillCustom,
  isTemplateName,
  TEMPLATE_NAMES,
  type Spec,
  type TemplateInput,
} from './templates.js';

export interface PlotImage {
  rev: string;
  /** repository-relative */
  file: string;
  bytes: Buffer;
}

/** One plot, ready to draw: a Vega-Lite spec with its data inline, or images. */
export type Plot =
  | { kind: 'vega'; id: string; revisions: string[]; spec: Spec }
  | { kind: 'image'; id: string; revisions: string[]; images: PlotImage[] };

export interface PlotsRequest {
  root: string;
  cache: CacheLayout | undefined;
  /** in order; `workspace` for the files on disk */
  revs: readonly string[];
  /** repository-relative plot ids or files; empty: every plot */
  targets: readonly string[];
  overrides: PlotOverrides;
}

interface Gathered {
  def: PlotDef;
  /** per revision, per source: the records (undefined: the file is absent there) */
  data: {
    rev: string;
    source: PlotSource;
    records: PlotRecord[] | undefined;
    bytes: Buffer | undefined;
  }[];
}

function matches(def: PlotDef, targets: readonly string[]): boolean {
  return (
    targets.length === 0 ||
    targets.some((t) => def.id === t || def.sources.some((s) => s.file === t))
  );
}

/** Every plot the revisions declare (first definition of an id wins), with its data. */
export async function collectPlots(req: PlotsRequest): Promise<Plot[]> {
  const gathered = new Map<string, Gathered>();
  for (const rev of req.revs) {
    const tree = await openTree(req.root, rev);
    const project = await treeProject(req.root, tree);
    let defs = (await plotDefinitions(project, tree, req.overrides)).filter((d) =>
      matches(d, req.targets),
    );
    for (const t of req.targets)
      if (!defs.some((d) => matches(d, [t])) && !gathered.has(t))
        defs = [...defs, adHoc(t, req.overrides)];
    const outputs = outputFiles(project);
    const files = [...new Set(defs.flatMap((d) => d.sources.map((s) => s.file)))];
    const declared: DeclaredFile[] = files.map(
      (rel) => outputs.get(rel) ?? { rel, lockfile: undefined, lockPath: undefined },
    );
    const bytes = await readDeclared(tree, declared, req.cache);
    const where = tree.commit === undefined ? '' : ` (at revision ${rev})`;
    for (const def of defs) {
      const g = gathered.get(def.id) ?? { def, data: [] };
      gathered.set(def.id, g);
      for (const source of g.def.sources) {
        const b = bytes.get(source.file);
        const records =
          b === undefined || isImage(source.file)
            ? undefined
            : parsePlotData(source.file, b.toString('utf8'), g.def.props.header, where);
        g.data.push({ rev, source, records, bytes: b });
      }
    }
  }
  return [...gathered.values()].map((g) => toPlot(req.root, g));
}

/** A target no definition names: the file plotted with the defaults (and the overrides). */
function adHoc(file: string, o: PlotOverrides): PlotDef {
  return {
    id: file,
    props: {
      template: o.template ?? 'linear',
      title: o.title,
      xLabel: o.xLabel,
      yLabel: o.yLabel,
      header: o.noHeader !== true,
    },
    sources: [{ file, x: o.x, y: o.y }],
  };
}

function toPlot(root: string, g: Gathered): Plot {
  const present = g.data.filter((d) => d.bytes !== undefined);
  const revisions = [...new Set(present.map((d) => d.rev))];
  if (g.def.sources.every((s) => isImage(s.file))) {
    return {
      kind: 'image',
      id: g.def.id,
      revisions,
      images: present.map((d) => ({
        rev: d.rev,
        file: d.source.file,
        bytes: d.bytes ?? Buffer.alloc(0),
      })),
    };
  }
  return { kind: 'vega', id: g.def.id, revisions, spec: specFor(root, g) };
}

/**
 * The records of every (revision, source) in one table: `rev` names the revision; x and y are
 * brought under one field name each when sources name them differently; `step` is the row
 * index when no x is given. The colour field is `rev` when only revisions differ, else a
 * `series` label of what does (revision, file, field).
 */
function specFor(root: string, g: Gathered): Spec {
  const rows = g.data.filter((d) => d.records !== undefined);
  const xOf = (d: (typeof rows)[number]): string => d.source.x ?? 'step';
  const yOf = (d: (typeof rows)[number]): string =>
    d.source.y ?? Object.keys(d.records?.[0] ?? {}).at(-1) ?? 'y';
  const xs = new Set(rows.map(xOf));
  const ys = new Set(rows.map(yOf));
  const x = xs.size === 1 ? ([...xs][0] ?? 'step') : 'x';
  const y = ys.size === 1 ? ([...ys][0] ?? 'y') : 'y';
  const files = new Set(rows.map((d) => d.source.file));
  const bySeries = files.size > 1 || ys.size > 1;
  const values: PlotRecord[] = [];
  for (const d of rows) {
    const dx = xOf(d);
    const dy = yOf(d);
    const label = [
      d.rev,
      ...(files.size > 1 ? [d.source.file] : []),
      ...(ys.size > 1 ? [dy] : []),
    ].join(' · ');
    (d.records ?? []).forEach((rec, i) => {
      const datum: PlotRecord = { ...rec, rev: d.rev, filename: d.source.file, field: dy };
      if (d.source.x === undefined) datum.step = i;
      if (dx !== x) datum[x] = rec[dx];
      if (dy !== y) datum[y] = rec[dy];
      if (bySeries) datum.series = label;
      values.push(datum);
    });
  }
  const p = g.def.props;
  const input: TemplateInput = {
    values,
    x,
    y,
    title: p.title ?? g.def.id,
    xLabel: p.xLabel ?? x,
    yLabel: p.yLabel ?? y,
    color: bySeries ? 'series' : 'rev',
    colorTitle: bySeries ? 'series' : 'rev',
  };
  if (isTemplateName(p.template)) return builtinSpec(p.template, input);
  return fillCustom(readCustomTemplate(root, p.template, g.def.id), input);
}

/** `.dvc/plots/<name>.json` (or `<name>` there), else a path from the repository root. */
function readCustomTemplate(root: string, name: string, id: string): unknown {
  const candidates = [
    path.join(root, '.dvc', 'plots', `${name}.json`),
    path.join(root, '.dvc', 'plots', name),
    path.resolve(root, name),
  ];
  const file = candidates.find((f) => fs.statSync(f, { throwIfNoEntry: false })?.isFile() === true);
  if (file === undefined)
    throw new CairnError('plot-template-unknown', `plot '${id}': no template '${name}'`, {
      hint: `Use one of ${TEMPLATE_NAMES.join(', ')}, a file .dvc/plots/${name}.json, or a path to a Vega-Lite JSON file.`,
    });
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new CairnError(
      'plot-invalid',
      `template ${path.relative(root, file)} is not valid JSON: ${(error as Error).message}`,
      {
        hint: 'A custom template is a Vega-Lite spec in JSON.',
      },
    );
  }
}
