/**
 * The queue runner's temp worktrees, reused from one experiment to the next: resetting one
 * costs a `read-tree` where a new one costs `worktree add`, `read-tree` and `worktree remove`.
 * They are named with this process's pid like any temp worktree, so if it dies they are swept
 * by the next run (worktree.ts). A folder is reused only for the same tree: what the pipeline
 * code learnt of a folder's `.dvc` and `dvc.yaml` files (one `git ls-files` per folder and
 * process, core/git.ts) stays true then.
 */
import fsp from 'node:fs/promises';
import { git } from '../core/git.js';
import { createWorktree, resetWorktree } from './worktree.js';

/** A worktree lent to one experiment. */
export interface PooledWorktree {
  readonly dir: string;
  /** the commit its HEAD is at */
  head: string;
  /** the tree it was made from */
  readonly tree: string;
}

export class WorktreePool {
  readonly #root: string;
  readonly #tmpDir: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #idle: PooledWorktree[] = [];
  /** every folder made, lent or not */
  readonly #made = new Set<string>();

  constructor(root: string, tmpDir: string, env: NodeJS.ProcessEnv) {
    this.#root = root;
    this.#tmpDir = tmpDir;
    this.#env = env;
  }

  /** A worktree holding `tree` with HEAD at `baseline`, as if new. */
  async acquire(baseline: string, tree: string): Promise<PooledWorktree> {
    const same = this.#idle.findIndex((w) => w.tree === tree);
    const [wt] = same < 0 ? [] : this.#idle.splice(same, 1);
    if (wt !== undefined) {
      try {
        wt.head = await resetWorktree(this.#root, wt.dir, wt.head, baseline, tree, this.#env);
        return wt;
      } catch (error) {
        await this.discard(wt);
        throw error;
      }
    }
    // One made for another tree makes way, so the pool does not grow.
    const other = this.#idle.shift();
    if (other !== undefined) await this.discard(other);
    const dir = await createWorktree(this.#root, this.#tmpDir, baseline, tree, this.#env);
    this.#made.add(dir);
    return { dir, head: baseline, tree };
  }

  /** Back to the pool, to be reset by the next `acquire`. */
  release(wt: PooledWorktree): void {
    this.#idle.push(wt);
  }

  /** Not reused (a stopped run may have left processes in it): removed now. */
  async discard(wt: PooledWorktree): Promise<void> {
    this.#made.delete(wt.dir);
    await fsp.rm(wt.dir, { recursive: true, force: true });
  }

  /** Removes every worktree made, and git's records of them, in one git call. */
  async dispose(): Promise<void> {
    const dirs = [...this.#made];
    this.#made.clear();
    this.#idle.length = 0;
    await Promise.all(dirs.map((d) => fsp.rm(d, { recursive: true, force: true })));
    await git(this.#root, ['worktree', 'prune'], { env: this.#env });
  }
}
