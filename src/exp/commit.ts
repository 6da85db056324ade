/**
 * An experiment recorded as DVC records it: one commit whose single parent is the baseline,
 * message `dvc: commit experiment <sha256>`, then its ref. The ref is written only after the
 * commit object exists, in one `update-ref`, so a killed run leaves no half-written ref.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { git } from '../core/git.js';
import { chainError, runChain } from './git-chain.js';

/** sha256 of the run's dvc.lock: the experiment's identity in its commit message. */
export function experimentHash(dir: string): string {
  const lock = path.join(dir, 'dvc.lock');
  const text = fs.existsSync(lock) ? fs.readFileSync(lock) : Buffer.alloc(0);
  return createHash('sha256').update(text).digest('hex');
}

export interface CommitRequest {
  /** the tree to commit */
  tree: string;
  baseline: string;
  ref: string;
  hash: string;
  /** replace an existing experiment of the same name */
  force: boolean;
  /** where git runs (the workspace) */
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** The experiment's commit object (no ref yet): parent the baseline, DVC's message. */
export async function writeExperimentCommit(
  r: Pick<CommitRequest, 'tree' | 'baseline' | 'hash' | 'cwd' | 'env'>,
): Promise<string> {
  return (
    await git(r.cwd, ['commit-tree', r.tree, '-p', r.baseline, '-m', experimentMessage(r.hash)], {
      env: r.env,
    })
  ).trim();
}

/** Writes the commit and then the ref; returns the commit id. */
export async function commitExperiment(r: CommitRequest): Promise<string> {
  const commit = await writeExperimentCommit(r);
  try {
    // An empty old value makes git refuse when the ref already exists (two runs, one name).
    await git(r.cwd, ['update-ref', r.ref, commit, ...(r.force ? [] : [''])], { env: r.env });
  } catch (error) {
    throw new CairnError('exists', `experiment ${r.ref} already exists`, {
      hint: 'Pick another name with -n, or pass --force to replace it.',
      cause: error,
    });
  }
  return commit;
}

/**
 * Commits everything `git add -A` sees in a temp worktree (its own index, not the user's), then
 * writes the ref: add, write-tree, commit-tree and update-ref from one process start, in that
 * order. Returns the commit id.
 */
export async function commitWorktree(
  r: Omit<CommitRequest, 'tree' | 'cwd'> & { /** the worktree */ dir: string },
): Promise<string> {
  // An empty old value ("$4") makes git refuse when the ref already exists.
  const setRef = r.force ? 'git update-ref "$3" "$commit"' : 'git update-ref "$3" "$commit" "$4"';
  const script = `commit=$(${COMMIT_SCRIPT}) || exit 1; ${setRef} || exit 3; echo "$commit"`;
  const done = await runChain(r.dir, r.env, script, [
    r.baseline,
    experimentMessage(r.hash),
    r.ref,
    '',
  ]);
  if (done.code === 3)
    throw new CairnError('exists', `experiment ${r.ref} already exists`, {
      hint: 'Pick another name with -n, or pass --force to replace it.',
    });
  if (done.code !== 0) throw chainError(r.dir, done);
  return done.stdout.trim();
}

/**
 * `sh` script: the commit of a worktree's files, parent `$1`, message `$2`; prints its id.
 * Stage logs are the run's own, not the experiment's content.
 */
export const COMMIT_SCRIPT = `git add -A -- . ':(exclude).cairn/logs' && tree=$(git write-tree) && git commit-tree "$tree" -p "$1" -m "$2"`;

/** DVC's message of an experiment commit. */
export function experimentMessage(hash: string): string {
  return `dvc: commit experiment ${hash}`;
}
