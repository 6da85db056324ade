/** `exp apply`, `branch`, `remove` and `diff`: experiments as the git objects they are. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { openRepo } from '../core/repo.js';
import { Workspace } from '../data/workspace.js';
import { parseLockFile } from '../pipeline/lockfile.js';
import { restoreOutput } from '../pipeline/restore.js';
import { catFileBatch, git } from '../core/git.js';
import { findExp, listExpRefs, resolveCommit, type ExpRef } from './refs.js';
import type { ExpRepo } from './run.js';
import { readRevisions, readWorkspace } from './show.js';
import type { Cell, FileValues } from './values.js';

async function head(r: ExpRepo): Promise<string | undefined> {
  try {
    return (await git(r.root, ['rev-parse', '--verify', 'HEAD^{commit}'], { env: r.env })).trim();
  } catch {
    return undefined;
  }
}

export async function findExperiment(r: ExpRepo, spec: string): Promise<ExpRef> {
  return findExp(await listExpRefs(r.root, r.env), spec, await head(r));
}

export interface ApplyResult {
  name: string;
  commit: string;
  /** workspace files written from the experiment's commit */
  written: string[];
  removed: string[];
  /** outputs put back from the cache */
  restored: string[];
}

/**
 * Sets the workspace's files to the experiment's: the files its commit changed against its
 * baseline, then the cached outputs its dvc.lock records. Refuses to overwrite uncommitted
 * changes unless `force`.
 */
export async function applyExperiment(
  r: ExpRepo,
  spec: string,
  force: boolean,
): Promise<ApplyResult> {
  const exp = await findExperiment(r, spec);
  const changes = await git(
    r.root,
    ['diff-tree', '-r', '--no-commit-id', '--name-status', '-z', exp.baseline, exp.commit],
    {
      env: r.env,
    },
  );
  const parts = changes.split('\0').filter((p) => p !== '');
  const write: string[] = [];
  const remove: string[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const status = parts[i] ?? '';
    const file = parts[i + 1] ?? '';
    (status === 'D' ? remove : write).push(file);
  }
  if (!force && write.length + remove.length > 0) {
    const dirty = await git(r.root, ['status', '--porcelain', '-z', '--', ...write, ...remove], {
      env: r.env,
    });
    const files = dirty
      .split('\0')
      .filter((p) => p !== '')
      .map((p) => p.slice(3));
    if (files.length > 0)
      throw new CairnError(
        'checkout-would-lose-data',
        `applying '${exp.name}' would overwrite uncommitted changes to ${files.join(', ')}`,
        {
          hint: 'Commit or stash them first, or pass --force to overwrite them.',
        },
      );
  }
  const blobs = await catFileBatch(
    r.root,
    write.map((f) => `${exp.commit}:${f}`),
    r.env,
  );
  for (const [i, file] of write.entries()) {
    const abs = path.join(r.root, file);
    await fsp.mkdir(path.dirname(abs), { recursive: true });
    await fsp.writeFile(abs, blobs[i]?.data ?? Buffer.alloc(0));
  }
  for (const file of remove) await fsp.rm(path.join(r.root, file), { force: true });
  const restored = await restoreLockedOutputs(r, exp.commit);
  return { name: exp.name, commit: exp.commit, written: write, removed: remove, restored };
}

/** The cached outputs of a commit's dvc.lock (those not in its tree) placed in the workspace. */
async function restoreLockedOutputs(r: ExpRepo, commit: string): Promise<string[]> {
  const [lockObj] = await catFileBatch(r.root, [`${commit}:dvc.lock`], r.env);
  if (lockObj === undefined) return [];
  const inTree = new Set(
    (await git(r.root, ['ls-tree', '-r', '--name-only', '-z', commit], { env: r.env })).split('\0'),
  );
  const lock = parseLockFile('dvc.lock', lockObj.data.toString('utf8'));
  const repo = await openRepo(r.root, r.env);
  const ws = new Workspace(repo, r.sink);
  const restored: string[] = [];
  try {
    await using _lock = await ws.lock('cairn exp apply');
    for (const entry of lock.values())
      for (const out of entry.outs) {
        if (out.md5 === undefined || inTree.has(out.path)) continue;
        try {
          await restoreOutput(ws, path.join(r.root, out.path), out);
          restored.push(out.path);
        } catch (error) {
          r.sink({
            type: 'warning',
            message: `${out.path} not restored: ${(error as Error).message}`,
          });
        }
      }
  } finally {
    await ws.close();
  }
  return restored;
}

export async function branchExperiment(
  r: ExpRepo,
  spec: string,
  branch: string,
): Promise<{ name: string; branch: string; commit: string }> {
  const exp = await findExperiment(r, spec);
  try {
    await git(r.root, ['check-ref-format', '--branch', branch], { env: r.env });
  } catch {
    throw new CairnError('bad-flag', `'${branch}' is not a valid branch name`, {
      hint: 'See `git check-ref-format --help`.',
    });
  }
  if (
    fs.existsSync(path.join(r.root, '.git')) &&
    (await git(r.root, ['branch', '--list', branch], { env: r.env })).trim() !== ''
  )
    throw new CairnError('exists', `branch '${branch}' already exists`, {
      hint: 'Pick another branch name.',
    });
  await git(r.root, ['branch', branch, exp.commit], { env: r.env });
  return { name: exp.name, branch, commit: exp.commit };
}

/** Deletes experiment refs (the commits stay until git gc); returns the refs removed. */
export async function removeExperiments(r: ExpRepo, specs: readonly string[]): Promise<ExpRef[]> {
  const refs = await listExpRefs(r.root, r.env);
  const here = await head(r);
  const found = specs.map((s) => findExp(refs, s, here));
  for (const e of found) await git(r.root, ['update-ref', '-d', e.ref, e.commit], { env: r.env });
  return found;
}

/** One changed value: `{old, new, diff}` as DVC's `--json` shows it. */
export interface ValueChange {
  old: Cell | undefined;
  new: Cell | undefined;
  /** new - old, for numbers */
  diff?: number;
}

export type DiffTable = Record<string, Record<string, ValueChange>>;

export interface ExpDiff {
  a: { spec: string; rev: string };
  b: { spec: string; rev: string };
  params: DiffTable;
  metrics: DiffTable;
}

function diffValues(a: FileValues, b: FileValues, all: boolean): DiffTable {
  const out: DiffTable = {};
  for (const file of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[file] ?? {};
    const y = b[file] ?? {};
    for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const o = x[key];
      const n = y[key];
      if (!all && JSON.stringify(o) === JSON.stringify(n)) continue;
      (out[file] ??= {})[key] = {
        old: o,
        new: n,
        ...(typeof o === 'number' && typeof n === 'number'
          ? { diff: Number((n - o).toPrecision(12)) }
          : {}),
      };
    }
  }
  return out;
}

/** A spec: `workspace`, an experiment (name, ref, id prefix) or any git revision. */
async function resolveSpec(r: ExpRepo, spec: string): Promise<string> {
  if (spec === 'workspace') return 'workspace';
  try {
    return (await findExperiment(r, spec)).commit;
  } catch (error) {
    if (error instanceof CairnError && error.code === 'not-found')
      return resolveCommit(r.root, spec, r.env);
    throw error;
  }
}

/**
 * Params and metrics of B against A. Defaults as DVC's: A the baseline of B (or HEAD), B the
 * workspace.
 */
export async function diffExperiments(
  r: ExpRepo,
  aSpec: string | undefined,
  bSpec: string | undefined,
  all: boolean,
): Promise<ExpDiff> {
  const b = bSpec === undefined ? 'workspace' : await resolveSpec(r, bSpec);
  let a: string;
  if (aSpec !== undefined) a = await resolveSpec(r, aSpec);
  else {
    const refs = await listExpRefs(r.root, r.env);
    const parent = refs.find((e) => e.commit === b)?.baseline ?? (await head(r));
    if (parent === undefined)
      throw new CairnError(
        'git-failed',
        'no baseline to compare with: the repository has no commit',
      );
    a = parent;
  }
  const commits = [a, b].filter((x) => x !== 'workspace');
  const data = await readRevisions(r, commits);
  const valuesOf = (rev: string) =>
    rev === 'workspace'
      ? readWorkspace(r.root)
      : (data.get(rev) ?? { params: {}, metrics: {}, errors: [] });
  const va = valuesOf(a);
  const vb = valuesOf(b);
  return {
    a: { spec: aSpec ?? a, rev: a },
    b: { spec: bSpec ?? 'workspace', rev: b },
    params: diffValues(va.params, vb.params, all),
    metrics: diffValues(va.metrics, vb.metrics, all),
  };
}
