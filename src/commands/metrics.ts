/** `metrics show`, `metrics diff` and `params diff`: the workspace and git revisions compared. */
import path from 'node:path';
import { toPosix } from '../core/fs.js';
import { openRepo } from '../core/repo.js';
import { cacheLayout } from '../data/cache.js';
import {
  diffMetrics,
  diffParams,
  selectedRevisions,
  showMetrics,
  type DiffReport,
  type MetricsShow,
  type MetricsSources,
} from '../metrics/metrics.js';
import type { CommandContext } from './context.js';

export interface MetricsShowOptions {
  targets: readonly string[];
  allBranches: boolean;
  allTags: boolean;
  allCommits: boolean;
}

export interface MetricsDiffOptions {
  a: string | undefined;
  b: string | undefined;
  all: boolean;
  targets: readonly string[];
}

async function sources(ctx: CommandContext): Promise<MetricsSources> {
  const repo = await openRepo(ctx.cwd, ctx.env);
  return {
    root: repo.root,
    cache: cacheLayout(repo.config.cache.dir, repo.config.cache.shared, false),
  };
}

/** Targets are named from the caller's directory; trees are read by repository paths. */
function repoPaths(ctx: CommandContext, root: string, targets: readonly string[]): string[] {
  return targets.map((t) => toPosix(path.relative(root, path.resolve(ctx.cwd, t))));
}

export async function metricsShow(
  ctx: CommandContext,
  o: MetricsShowOptions,
): Promise<MetricsShow> {
  const src = await sources(ctx);
  const revs = await selectedRevisions(src.root, o);
  return showMetrics(src, revs, repoPaths(ctx, src.root, o.targets));
}

export async function metricsDiff(ctx: CommandContext, o: MetricsDiffOptions): Promise<DiffReport> {
  const src = await sources(ctx);
  return diffMetrics(src, { ...o, targets: repoPaths(ctx, src.root, o.targets) });
}

export async function paramsDiff(ctx: CommandContext, o: MetricsDiffOptions): Promise<DiffReport> {
  const src = await sources(ctx);
  return diffParams(src, { ...o, targets: repoPaths(ctx, src.root, o.targets) });
}
