/**
 * The queue runner's temp worktrees, reused from one experiment to the next: the git start that
 * commits an experiment also puts its worktree back as new (its tree read back, everything else
 * cleaned), so the next experiment of that tree starts with no git call at all, where a new
 * worktree costs `worktree add`, `read-tree` and `worktree remove`.
 * They are named with this process's pid like any temp worktree, so if it dies they are swept
 * by the next run (worktree.ts). A folder is reused only for the same tree: what the pipeline
 * code learnt of a folder's `.dvc` and `dvc.yaml` files (one `git ls-files` per folder and
 * process, core/git.ts) stays true then.
 */
import fsp from 'node:fs/promises';
import { git } from '../core/git.js';
import { COMMIT_SCRIPT } from './commit.js';
import { chainError, runChain } from './git-chain.js';
import { copySettings, createWorktree } from './worktree.js';

/**
 * `sh` script: a used worktree back to tree `$3` and nothing else (read-tree removes what the
 * run added to the index, clean what it left untracked or ignored: outputs, logs, tmp).
 */
const RESET_SCRIPT = 'git read-tree --reset -u "$3" && git clean -ffdxq';

/** A worktree lent to one experiment. */
export interface PooledWorktree {
  readonly dir: string;
  /** the commit its HEAD is at */
  head: string;
  /** the tree it holds when idle */
  readonly tree: string;
}

export class WorktreePool {
  readonly #root: string;
  readonly #tmpDir: string;
  readonly #env: NodeJS.ProcessEnv;
  /** reset, ready for an experiment of their tree */
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
        if (wt.head !== baseline) {
          await git(wt.dir, ['update-ref', '--no-deref', 'HEAD', baseline], { env: this.#env });
          wt.head = baseline;
        }
        await copySettings(this.#root, wt.dir);
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

  /**
   * Commits what the experiment left in `wt` (parent `baseline`) and gives the worktree back,
   * reset, in one process start. Returns the commit id.
   */
  async commitAndRelease(wt: PooledWorktree, baseline: string, message: string): Promise<string> {
    const script = `commit=$(${COMMIT_SCRIPT}) || exit 1; echo "$commit"; ${RESET_SCRIPT} || exit 2`;
    const r = await runChain(wt.dir, this.#env, script, [baseline, message, wt.tree]);
    if (r.code === 0) this.#idle.push(wt);
    else await this.discard(wt);
    if (r.code === 0 || r.code === 2) return r.stdout.trim();
    throw chainError(wt.dir, r);
  }

  /** Gives `wt` back without a commit (a failed run), reset for the next. */
  async release(wt: PooledWorktree): Promise<void> {
    const r = await runChain(wt.dir, this.#env, RESET_SCRIPT, ['', '', wt.tree]);
    if (r.code === 0) this.#idle.push(wt);
    else await this.discard(wt);
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
