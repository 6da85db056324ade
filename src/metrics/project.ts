/**
 * What a tree's dvc.yaml files declare for metrics, params and plots: the pipelines are parsed
 * from the tree's own text (at a commit, from its blobs), and the files they name are read
 * from the tree, or, for cached outputs git does not hold, from the cache by the hash the
 * tree's dvc.lock records.
 */
import path from 'node:path';
import { toPosix } from '../core/fs.js';
import { readObject, type CacheLayout } from '../data/cache.js';
import { parseLockFile } from '../pipeline/lockfile.js';
import { parsePipeline, type Pipeline } from '../pipeline/parse.js';
import { DVC_YAML, loadProject } from '../pipeline/project.js';
import type { StageOut } from '../pipeline/stage.js';
import type { RevisionTree } from './revision.js';

/** A file a tree's pipelines declare, and where its bytes may come from. */
export interface DeclaredFile {
  /** repository-relative, POSIX */
  rel: string;
  /** the dvc.lock (repository-relative) of the stage that writes it as a cached output */
  lockfile: string | undefined;
  /** the output's path as written in that lock */
  lockPath: string | undefined;
}

/** A stage output declared under `plots:`, with its rendering flags. */
export interface PlotOut extends DeclaredFile {
  flags: StageOut['flags'];
}

export interface TreeProject {
  root: string;
  pipelines: Pipeline[];
}

/** The pipelines of a tree: the workspace through the usual loader, a commit from its blobs. */
export async function treeProject(root: string, tree: RevisionTree): Promise<TreeProject> {
  if (tree.commit === undefined) return { root, pipelines: loadProject(root).pipelines };
  const files = (await tree.list('')).filter((p) => path.posix.basename(p) === DVC_YAML);
  const texts = await tree.readMany(files);
  const pipelines = files.flatMap((rel) => {
    const text = texts.get(rel);
    return text === undefined
      ? []
      : [parsePipeline(path.join(root, rel), text.toString('utf8'), { root })];
  });
  return { root, pipelines };
}

function relOf(root: string, abs: string): string {
  return toPosix(path.relative(root, abs));
}

function declaredOut(root: string, out: StageOut, stageLock: string): DeclaredFile {
  return {
    rel: relOf(root, out.abs),
    lockfile: out.cache ? relOf(root, stageLock) : undefined,
    lockPath: out.cache ? out.path : undefined,
  };
}

/** Metrics files: top-level `metrics:` and stage `metrics:` outputs, each path once. */
export function metricsFiles(project: TreeProject): DeclaredFile[] {
  const found = new Map<string, DeclaredFile>();
  for (const p of project.pipelines) {
    for (const stage of p.stages)
      for (const out of stage.outs)
        if (out.kind === 'metrics') {
          const d = declaredOut(project.root, out, stage.lockfile);
          found.set(d.rel, d);
        }
    for (const m of p.metrics) {
      const rel = relOf(project.root, path.resolve(path.dirname(p.file), m));
      if (!found.has(rel)) found.set(rel, { rel, lockfile: undefined, lockPath: undefined });
    }
  }
  return [...found.values()].sort((a, b) => (a.rel < b.rel ? -1 : 1));
}

/** Params files: those stages depend on and top-level `params:`, each path once, sorted. */
export function paramsFiles(project: TreeProject): string[] {
  const found = new Set<string>();
  for (const p of project.pipelines) {
    for (const stage of p.stages)
      for (const param of stage.params) found.add(relOf(project.root, param.abs));
    for (const f of p.params) found.add(relOf(project.root, path.resolve(path.dirname(p.file), f)));
  }
  return [...found].sort();
}

/** Stage outputs declared under `plots:`. */
export function plotOuts(project: TreeProject): PlotOut[] {
  return project.pipelines.flatMap((p) =>
    p.stages.flatMap((stage) =>
      stage.outs
        .filter((o) => o.kind === 'plots')
        .map((o) => ({ ...declaredOut(project.root, o, stage.lockfile), flags: o.flags })),
    ),
  );
}

/**
 * The bytes of declared files at a tree: from the tree, else (a cached output git does not
 * hold) from the cache object the tree's dvc.lock names. Absent files are left out.
 */
export async function readDeclared(
  tree: RevisionTree,
  files: readonly DeclaredFile[],
  cache: CacheLayout | undefined,
): Promise<Map<string, Buffer>> {
  const found = await tree.readMany(files.map((f) => f.rel));
  const missing = files.filter((f) => !found.has(f.rel) && f.lockfile !== undefined);
  if (missing.length === 0 || cache === undefined) return found;
  const lockTexts = await tree.readMany([...new Set(missing.map((f) => f.lockfile ?? ''))]);
  for (const f of missing) {
    const text = lockTexts.get(f.lockfile ?? '');
    if (text === undefined) continue;
    let md5: string | undefined;
    try {
      const lock = parseLockFile(f.lockfile ?? '', text.toString('utf8'));
      for (const entry of lock.values())
        for (const out of entry.outs) if (out.path === f.lockPath) md5 = out.md5;
    } catch {
      continue; // an unreadable lock hides nothing more than a missing one
    }
    if (md5 === undefined || md5.endsWith('.dir')) continue;
    const bytes = await readObject(cache, md5);
    if (bytes !== undefined) found.set(f.rel, bytes);
  }
  return found;
}

/** Every stage output of the tree by path, so a file a plot names can be found in the cache. */
export function outputFiles(project: TreeProject): Map<string, DeclaredFile> {
  const found = new Map<string, DeclaredFile>();
  for (const p of project.pipelines)
    for (const stage of p.stages)
      for (const out of stage.outs) {
        const d = declaredOut(project.root, out, stage.lockfile);
        found.set(d.rel, d);
      }
  return found;
}
