/**
 * `metrics show`, `metrics diff` and `params diff` over trees: the declared files read at
 * each revision, in DVC's `--json` shapes.
 */
import type { CacheLayout } from '../data/cache.js';
import { git } from '../core/git.js';
import {
  metricsFiles,
  paramsFiles,
  readDeclared,
  treeProject,
  type DeclaredFile,
} from './project.js';
import { openHeadOrEmpty, openTree, WORKSPACE, type RevisionTree } from './revision.js';
import {
  diffFiles,
  extractMetrics,
  flatten,
  parseDataFile,
  type DiffResult,
  type Tree,
} from './values.js';

/** `{rev: {data: {path: {data: metrics}}}}`, DVC's `metrics show --json`. */
export type MetricsShow = Record<string, { data: Record<string, { data: Tree }> }>;

/** `all`: unchanged keys too. `a` defaults to HEAD, `b` to the workspace. */
export interface DiffOptions {
  a: string | undefined;
  b: string | undefined;
  all: boolean;
  /** limit to these files (repository-relative) */
  targets: readonly string[];
}

/** A diff and the revision names its columns carry. */
export interface DiffReport {
  a: string;
  b: string;
  diff: DiffResult;
}

export interface MetricsSources {
  root: string;
  /** where cached metrics a commit does not hold are found; undefined: not looked for */
  cache: CacheLayout | undefined;
}

function where(tree: RevisionTree): string {
  return tree.commit === undefined ? '' : ` (at revision ${tree.name})`;
}

/** Each metrics file the tree declares (or `targets`), reduced to its scalars. */
export async function treeMetrics(
  src: MetricsSources,
  tree: RevisionTree,
  targets: readonly string[],
): Promise<Map<string, Tree>> {
  const declared: DeclaredFile[] =
    targets.length > 0
      ? targets.map((rel) => ({ rel, lockfile: undefined, lockPath: undefined }))
      : metricsFiles(await treeProject(src.root, tree));
  const bytes = await readDeclared(tree, declared, src.cache);
  const out = new Map<string, Tree>();
  for (const f of declared) {
    const b = bytes.get(f.rel);
    if (b === undefined) continue;
    out.set(f.rel, extractMetrics(parseDataFile(f.rel, b.toString('utf8'), where(tree))));
  }
  return out;
}

/** Each params file the tree's stages depend on or lists at the top, whole. */
export async function treeParams(
  src: MetricsSources,
  tree: RevisionTree,
  targets: readonly string[],
): Promise<Map<string, Tree>> {
  const files = targets.length > 0 ? [...targets] : paramsFiles(await treeProject(src.root, tree));
  const bytes = await tree.readMany(files);
  const out = new Map<string, Tree>();
  for (const rel of files) {
    const b = bytes.get(rel);
    if (b !== undefined) out.set(rel, parseDataFile(rel, b.toString('utf8'), where(tree)));
  }
  return out;
}

export async function showMetrics(
  src: MetricsSources,
  revs: readonly string[],
  targets: readonly string[],
): Promise<MetricsShow> {
  const result: MetricsShow = {};
  for (const rev of revs) {
    const tree = await openTree(src.root, rev);
    const data: Record<string, { data: Tree }> = {};
    for (const [file, tree2] of await treeMetrics(src, tree, targets)) data[file] = { data: tree2 };
    result[rev] = { data };
  }
  return result;
}

async function diffTrees(
  src: MetricsSources,
  o: DiffOptions,
  read: (tree: RevisionTree) => Promise<Map<string, Tree>>,
): Promise<DiffReport> {
  const a = o.a ?? 'HEAD';
  const b = o.b ?? WORKSPACE;
  const ta = o.a === undefined ? await openHeadOrEmpty(src.root) : await openTree(src.root, a);
  const tb = await openTree(src.root, b);
  const flat = (m: Map<string, Tree>) =>
    new Map([...m].map(([file, tree]) => [file, flatten(tree)] as const));
  return { a, b, diff: diffFiles(flat(await read(ta)), flat(await read(tb)), o.all) };
}

export function diffMetrics(src: MetricsSources, o: DiffOptions): Promise<DiffReport> {
  return diffTrees(src, o, (t) => treeMetrics(src, t, o.targets));
}

export function diffParams(src: MetricsSources, o: DiffOptions): Promise<DiffReport> {
  return diffTrees(src, o, (t) => treeParams(src, t, o.targets));
}

/** Which revisions `-a/-T/-A` add after the workspace: branch and tag names, or commits. */
export async function selectedRevisions(
  root: string,
  sel: { allBranches: boolean; allTags: boolean; allCommits: boolean },
): Promise<string[]> {
  const revs = [WORKSPACE];
  const add = (text: string): void => {
    for (const line of text.split('\n')) if (line !== '' && !revs.includes(line)) revs.push(line);
  };
  if (sel.allBranches)
    add(await git(root, ['for-each-ref', '--format=%(refname:short)', 'refs/heads']));
  if (sel.allTags) add(await git(root, ['for-each-ref', '--format=%(refname:short)', 'refs/tags']));
  if (sel.allCommits) add(await git(root, ['rev-list', '--all']));
  return revs;
}
