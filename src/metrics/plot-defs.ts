/**
 * Plot definitions as dvc.yaml writes them: top-level `plots:` items (a path, a file or a
 * folder, or `{id: {x, y, template, title, x_label, y_label}}` with `x`/`y` naming fields or
 * `{file: field(s)}`), and stage outputs under `plots:` with the same flags.
 */
import path from 'node:path';
import { ManifestError } from '../core/errors.js';
import { toPosix } from '../core/fs.js';
import { isValueMap, type Value, type ValueMap } from '../pipeline/values.js';
import { isPlotFile } from './plot-data.js';
import { plotOuts, type TreeProject } from './project.js';
import type { RevisionTree } from './revision.js';

/** How a plot is drawn. */
export interface PlotProps {
  /** a template name (`linear`, the default), a `.dvc/plots/` name or a path */
  template: string;
  title: string | undefined;
  xLabel: string | undefined;
  yLabel: string | undefined;
  /** CSV/TSV files have a header row */
  header: boolean;
}

/** One series of a plot: a field of a file against another field (or the row index). */
export interface PlotSource {
  /** repository-relative */
  file: string;
  /** undefined: the row index, as a `step` field */
  x: string | undefined;
  /** undefined: the last field of the records */
  y: string | undefined;
}

export interface PlotDef {
  /** the name it is shown under: the id written in dvc.yaml, or the file's path */
  id: string;
  props: PlotProps;
  sources: PlotSource[];
}

/** Flags a user may set from the command line over every plot (`-t`, `-x`, `-y`, …). */
export interface PlotOverrides {
  template?: string;
  x?: string;
  y?: string;
  title?: string;
  xLabel?: string;
  yLabel?: string;
  noHeader?: boolean;
}

function str(v: Value | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function props(flags: ValueMap): PlotProps {
  return {
    template: str(flags.template) ?? 'linear',
    title: str(flags.title),
    xLabel: str(flags.x_label),
    yLabel: str(flags.y_label),
    header: flags.header !== false,
  };
}

function fieldsOf(v: Value | undefined, where: string): (string | undefined)[] {
  if (v === undefined || v === null) return [undefined];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((f) => typeof f === 'string')) return v;
  throw new ManifestError(
    where,
    1,
    1,
    'plot `y` must be a field, a list of fields or {file: fields}',
  );
}

/** Sources of `{id: flags}`: `y: {file: fields}` names the files, otherwise `id` is the file. */
function sourcesOf(id: string, flags: ValueMap, base: string, root: string, where: string) {
  const rel = (f: string): string => toPosix(path.relative(root, path.resolve(base, f)));
  const xs = flags.x;
  const xFor = (file: string): string | undefined => {
    if (typeof xs === 'string') return xs;
    if (xs !== undefined && isValueMap(xs)) return str(xs[file]) ?? str(Object.values(xs)[0]);
    return undefined;
  };
  const y = flags.y;
  if (y !== undefined && isValueMap(y)) {
    return Object.entries(y).flatMap(([file, fields]) =>
      fieldsOf(fields, where).map((f) => ({ file: rel(file), x: xFor(file), y: f })),
    );
  }
  return fieldsOf(y, where).map((f) => ({ file: rel(id), x: xFor(id), y: f }));
}

/** Every plot a tree declares, folders expanded to the plot files in them. */
export async function plotDefinitions(
  project: TreeProject,
  tree: RevisionTree,
  overrides: PlotOverrides = {},
): Promise<PlotDef[]> {
  const defs: PlotDef[] = [];
  for (const p of project.pipelines) {
    const where = toPosix(path.relative(project.root, p.file));
    const base = path.dirname(p.file);
    for (const item of p.plots) {
      if (typeof item === 'string') {
        const file = toPosix(path.relative(project.root, path.resolve(base, item)));
        defs.push({ id: file, props: props({}), sources: [{ file, x: undefined, y: undefined }] });
      } else if (isValueMap(item)) {
        for (const [id, flags] of Object.entries(item)) {
          const f = isValueMap(flags) ? flags : {};
          defs.push({ id, props: props(f), sources: sourcesOf(id, f, base, project.root, where) });
        }
      } else {
        throw new ManifestError(
          where,
          1,
          1,
          'a `plots` item must be a path or {id: {x, y, template}}',
        );
      }
    }
  }
  for (const out of plotOuts(project)) {
    const y = out.flags.y;
    defs.push({
      id: out.rel,
      props: props(out.flags),
      sources: fieldsOf(y, out.rel).map((f) => ({ file: out.rel, x: str(out.flags.x), y: f })),
    });
  }
  return applyOverrides(await expandFolders(defs, tree), overrides);
}

/** A path naming a folder becomes one plot per plot file inside it. */
async function expandFolders(defs: PlotDef[], tree: RevisionTree): Promise<PlotDef[]> {
  const out: PlotDef[] = [];
  for (const def of defs) {
    const only = def.sources.length === 1 ? def.sources[0] : undefined;
    if (only !== undefined && def.id === only.file) {
      const inside = (await tree.list(only.file)).filter((f) => f !== only.file && isPlotFile(f));
      if (inside.length > 0) {
        for (const file of inside) out.push({ ...def, id: file, sources: [{ ...only, file }] });
        continue;
      }
    }
    out.push(def);
  }
  return out;
}

function applyOverrides(defs: PlotDef[], o: PlotOverrides): PlotDef[] {
  return defs.map((d) => ({
    id: d.id,
    props: {
      template: o.template ?? d.props.template,
      title: o.title ?? d.props.title,
      xLabel: o.xLabel ?? d.props.xLabel,
      yLabel: o.yLabel ?? d.props.yLabel,
      header: o.noHeader === true ? false : d.props.header,
    },
    sources: d.sources.map((s) => ({ file: s.file, x: o.x ?? s.x, y: o.y ?? s.y })),
  }));
}
