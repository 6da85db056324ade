/**
 * The isolated place an experiment runs: a temporary git worktree under `.cairn/tmp/exps/`,
 * checked out at the baseline with the workspace's uncommitted files laid over it. The user's
 * workspace and index are never written: the snapshot is taken through a temporary index.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { processAlive } from '../core/fs.js';
import { git } from '../core/git.js';
import { gitChain } from './git-chain.js';

/** `.cairn/tmp/exps`: temp worktrees and indexes, named with their owner's pid. */
export function expsTmpDir(tmpDir: string): string {
  return path.join(tmpDir, 'exps');
}

function ownedName(prefix: string): string {
  return `${prefix}-${String(process.pid)}-${randomBytes(4).toString('hex')}`;
}

function ownerPid(name: string): number | undefined {
  const m = /^[a-z]+-(\d+)-[0-9a-f]+$/.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * The tree of the workspace as `git add -A` would stage it (tracked changes and untracked,
 * unignored files), built in a temporary index so the user's index is untouched.
 */
export async function snapshotWorkspace(
  root: string,
  tmpDir: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const dir = expsTmpDir(tmpDir);
  await fsp.mkdir(dir, { recursive: true });
  const index = path.join(dir, ownedName('index'));
  const genv = { ...env, GIT_INDEX_FILE: index };
  try {
    // A copy of the user's index lends its stat data, so only changed files are hashed.
    const userIndex = path.join(root, '.git', 'index');
    if (fs.existsSync(userIndex)) await fsp.copyFile(userIndex, index);
    else await git(root, ['read-tree', 'HEAD'], { env: genv });
    await git(root, ['add', '-A', '--', '.', ':(exclude).cairn/logs'], { env: genv });
    return (await git(root, ['write-tree'], { env: genv })).trim();
  } finally {
    await fsp.rm(index, { force: true });
  }
}

/**
 * Removes what killed runs left: worktrees and indexes whose owner process is gone, then
 * git's records of worktrees whose folder no longer exists. Returns the folders removed.
 */
export async function sweepStale(
  root: string,
  tmpDir: string,
  env: NodeJS.ProcessEnv,
): Promise<string[]> {
  const dir = expsTmpDir(tmpDir);
  let names: string[] = [];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = ownerPid(name);
    if (pid === undefined || pid === process.pid || processAlive(pid)) continue;
    await fsp.rm(path.join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  if (removed.length > 0) await git(root, ['worktree', 'prune'], { env });
  return removed;
}

/**
 * A detached worktree at `baseline` whose files are `tree`, with the workspace's Cairn settings
 * (`.cairn/config*.yaml`, which may be uncommitted) copied in. Returns its folder.
 */
export async function createWorktree(
  root: string,
  tmpDir: string,
  baseline: string,
  tree: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const dir = path.join(expsTmpDir(tmpDir), ownedName('wt'));
  await fsp.mkdir(path.dirname(dir), { recursive: true });
  await gitChain(
    root,
    env,
    'git worktree add --detach --no-checkout "$1" "$2" && cd "$1" && git read-tree --reset -u "$3"',
    [dir, baseline, tree],
  );
  await copySettings(root, dir);
  return dir;
}

/** The workspace's Cairn settings (which may be uncommitted) where the tree has none. */
export async function copySettings(root: string, dir: string): Promise<void> {
  for (const name of ['config.yaml', 'config.local.yaml']) {
    const from = path.join(root, '.cairn', name);
    const to = path.join(dir, '.cairn', name);
    if (fs.existsSync(from) && !fs.existsSync(to)) {
      await fsp.mkdir(path.dirname(to), { recursive: true });
      await fsp.copyFile(from, to);
    }
  }
  await fsp.mkdir(path.join(dir, '.cairn', 'tmp'), { recursive: true });
}

/** Removes the folder and git's record of it, in one git call (a prune if that fails). */
export async function removeWorktree(
  root: string,
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  try {
    await git(root, ['worktree', 'remove', '--force', '--force', dir], { env });
  } catch {
    await fsp.rm(dir, { recursive: true, force: true });
    await git(root, ['worktree', 'prune'], { env });
  }
}
