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
import { gitChain } from './git-chain.js';

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
  await writeExperimentRef({ ...r, commit });
  return commit;
}

/** The experiment's ref, set to its commit (refused when it exists, unless `force`). */
export async function writeExperimentRef(
  r: Pick<CommitRequest, 'ref' | 'force' | 'cwd' | 'env'> & { commit: string },
): Promise<void> {
  const { commit } = r;
  try {
    // An empty old value makes git refuse when the ref already exists (two runs, one name).
    await git(r.cwd, ['update-ref', r.ref, commit, ...(r.force ? [] : [''])], { env: r.env });
  } catch (error) {
    throw new CairnError('exists', `experiment ${r.ref} already exists`, {
      hint: 'Pick another name with -n, or pass --force to replace it.',
      cause: error,
    });
  }
}

/**
 * The experiment's commit object (no ref yet) of everything `git add -A` sees in a temp
 * worktree (its own index, not the user's): add, write-tree and commit-tree from one process
 * start. Returns the commit id.
 */
export async function commitWorktree(
  dir: string,
  baseline: string,
  hash: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  return (await gitChain(dir, env, COMMIT_SCRIPT, [baseline, experimentMessage(hash)])).trim();
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
