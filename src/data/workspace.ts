/**
 * The data side of a repository: its cache, stat index and worker pool, and the `.dvc` files
 * that say what is tracked. Commands open one, use it, and close it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { ignoreEvents, type EventSink } from '../core/events.js';
import { isInside, toPosix } from '../core/fs.js';
import { gitMetaFiles } from '../core/git.js';
import { acquireLock, type HeldLock } from '../core/lock.js';
import { repoLockPath, type Repo } from '../core/repo.js';
import { cacheLayout, type CacheLayout } from './cache.js';
import { DVC_SUFFIX, readDvcFile, type DvcFile } from './dvcfile.js';
import { StatIndex } from './index.js';
import { WorkerPool } from './pool.js';
import type { HashContext } from './tree.js';

export class Workspace implements HashContext {
  readonly repo: Repo;
  readonly repoRoot: string;
  readonly cache: CacheLayout;
  readonly index: StatIndex;
  readonly sink: EventSink;
  /** where checkout stages files before renaming them into place */
  readonly stagingDir: string;
  #pool: WorkerPool | undefined;

  constructor(repo: Repo, sink: EventSink = ignoreEvents) {
    this.repo = repo;
    this.repoRoot = repo.root;
    this.cache = cacheLayout(repo.config.cache.dir, repo.config.cache.shared, repo.directIo);
    this.index = new StatIndex(repo.tmpDir);
    this.sink = sink;
    this.stagingDir = path.join(repo.tmpDir, 'staging');
  }

  pool(): WorkerPool {
    // The main thread works too (see runParallel): N jobs = N-1 workers + this thread.
    this.#pool ??= new WorkerPool(Math.max(1, this.repo.config.core.checksum_jobs - 1));
    return this.#pool;
  }

  async close(): Promise<void> {
    await this.#pool?.close();
  }

  /**
   * Serialises writers of this workspace and cache; readers (status) need no lock. A wait for
   * another process is reported as a `lock-wait` event.
   */
  lock(command: string): Promise<HeldLock> {
    const lock = repoLockPath(this.repo);
    return acquireLock(lock, {
      timeoutMs: this.repo.config.core.lock_timeout * 1000,
      command,
      onWait: (_message, owner) => {
        this.sink({ type: 'lock-wait', lock, pid: owner.pid, command: owner.command });
      },
    });
  }

  /** POSIX path relative to the repo root. */
  rel(abs: string): string {
    return toPosix(path.relative(this.repoRoot, abs));
  }

  /** Resolves a user-given path and checks it lies inside the workspace and outside metadata. */
  resolveTarget(cwd: string, target: string): string {
    const abs = path.resolve(cwd, target);
    if (!isInside(this.repoRoot, abs) || abs === this.repoRoot) {
      throw new CairnError(
        'path-outside-repo',
        `${target} is outside the repository at ${this.repoRoot}`,
        {
          hint: 'Move or copy the data into the repository, or point cache.dir at a shared cache instead.',
        },
      );
    }
    const first = this.rel(abs).split('/')[0];
    if (first === '.git' || first === '.cairn' || first === '.dvc') {
      throw new CairnError(
        'path-reserved',
        `${target} is inside ${first}/, which holds metadata, not data`,
        {
          hint: 'Track data that lives in your workspace.',
        },
      );
    }
    return abs;
  }

  /** Every .dvc file in the workspace, found through git when possible (it skips ignored data). */
  dvcFiles(): string[] {
    if (!this.repo.config.core.no_scm && fs.existsSync(path.join(this.repoRoot, '.git'))) {
      const listed = gitMetaFiles(this.repoRoot);
      // undefined: not a git work tree after all, so walk
      if (listed !== undefined) return listed.filter((f) => f.endsWith(DVC_SUFFIX));
    }
    return walkForDvcFiles(this.repoRoot);
  }

  async readAll(): Promise<DvcFile[]> {
    return Promise.all(this.dvcFiles().map((f) => readDvcFile(f)));
  }
}

/** Walks the workspace for .dvc files, not descending into folders that are themselves tracked. */
function walkForDvcFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    const names = new Set(entries.map((e) => e.name));
    for (const e of entries) {
      if (
        e.name === '.git' ||
        e.name === '.cairn' ||
        e.name === '.dvc' ||
        e.name === 'node_modules'
      )
        continue;
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!names.has(`${e.name}${DVC_SUFFIX}`)) walk(abs);
      } else if (e.name.endsWith(DVC_SUFFIX) && e.isFile()) found.push(abs);
    }
  };
  walk(root);
  return found.sort();
}
