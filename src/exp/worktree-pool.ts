/**
 * The queue runner's temp worktrees, reused from one experiment to the next: resetting one
 * costs a `read-tree` where a new one costs `worktree add`, `read-tree` and `worktree remove`.
 * They are named with this process's pid like any temp worktree, so if it dies they are swept
 * by the next run (worktree.ts).
 */
import fsp from 'node:fs/promises';
import { git } from '../core/git.js';
import { createWorktree, resetWorktree } from './worktree.js';

/** A worktree lent to one experiment. */
export interface PooledWorktree {
  readonly dir: string;
  /** the commit its HEAD is at */
  head: string;
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

  /** A worktree holding `tree` (a tree or commit) with HEAD at `baseline`. */
  async acquire(baseline: string, tree: string): Promise<PooledWorktree> {
    const wt = this.#idle.pop();
    if (wt !== undefined) {
      try {
        wt.head = await resetWorktree(this.#root, wt.dir, wt.head, baseline, tree, this.#env);
        return wt;
      } catch (error) {
        await this.discard(wt);
        throw error;
      }
    }
    const dir = await createWorktree(this.#root, this.#tmpDir, baseline, tree, this.#env);
    this.#made.add(dir);
    return { dir, head: baseline };
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
