/** `plots show` and `plots diff`: plots drawn to SVG, PNG and one HTML page, or their specs. */
import path from 'node:path';
import { toPosix } from '../core/fs.js';
import { openRepo } from '../core/repo.js';
import { cacheLayout } from '../data/cache.js';
import type { PlotOverrides } from '../metrics/plot-defs.js';
import { writePlots, type PlotFormats, type WrittenPlots } from '../metrics/plot-files.js';
import { collectPlots, type Plot } from '../metrics/plots.js';
import { WORKSPACE } from '../metrics/revision.js';
import type { CommandContext } from './context.js';

export interface PlotsOptions {
  targets: readonly string[];
  overrides: PlotOverrides;
  /** where files go (default `dvc_plots`, from the caller's directory) */
  out: string | undefined;
  /** undefined: only the specs, nothing drawn or written */
  formats: PlotFormats | undefined;
}

export interface PlotsResult {
  plots: Plot[];
  written: WrittenPlots | undefined;
}

/** The revisions `plots diff` compares: HEAD and the workspace; a rev and the workspace; or those named. */
export function diffRevisions(revs: readonly string[]): string[] {
  if (revs.length === 0) return ['HEAD', WORKSPACE];
  if (revs.length === 1) return [revs[0] ?? 'HEAD', WORKSPACE];
  return [...revs];
}

export async function plots(
  ctx: CommandContext,
  revs: readonly string[],
  o: PlotsOptions,
): Promise<PlotsResult> {
  const repo = await openRepo(ctx.cwd, ctx.env);
  const all = await collectPlots({
    root: repo.root,
    cache: cacheLayout(repo.config.cache.dir, repo.config.cache.shared, false),
    revs,
    targets: o.targets.map((t) => toPosix(path.relative(repo.root, path.resolve(ctx.cwd, t)))),
    overrides: o.overrides,
  });
  const written =
    o.formats === undefined
      ? undefined
      : await writePlots(all, path.resolve(ctx.cwd, o.out ?? 'dvc_plots'), o.formats);
  return { plots: all, written };
}
