/**
 * Records finished stages in their dvc.lock at once, one at a time per file: within this
 * process through a queue, between processes through a file lock, re-reading the file when
 * another process changed it since we last wrote it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { toPosix } from '../core/fs.js';
import { acquireLock } from '../core/lock.js';
import { stampOf as memoStamp } from './memo.js';
import {
  readLockFile,
  rememberLock,
  writeLockFile,
  type LockEntry,
  type LockFile,
} from './lockfile.js';

interface Known {
  lock: LockFile;
  /** stat of the file as we last read or wrote it */
  stamp: string;
}

const stampOf = (file: string): string => {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st === undefined ? 'none' : `${st.ino}:${st.size}:${st.mtimeMs}`;
};

export class LockWriter {
  readonly #root: string;
  readonly #locksDir: string;
  readonly #tmpDir: string;
  readonly #timeoutMs: number;
  readonly #known = new Map<string, Known>();
  #queue: Promise<unknown> = Promise.resolve();
  readonly #written = new Set<string>();

  constructor(root: string, tmpDir: string, timeoutMs: number) {
    this.#root = root;
    this.#locksDir = path.join(tmpDir, 'locks');
    this.#tmpDir = tmpDir;
    this.#timeoutMs = timeoutMs;
  }

  /** The current lock file (re-read when another process wrote it). */
  read(file: string): LockFile {
    const stamp = stampOf(file);
    const known = this.#known.get(file);
    if (known?.stamp === stamp) return known.lock;
    const lock = readLockFile(file, toPosix(path.relative(this.#root, file)), this.#tmpDir);
    this.#known.set(file, { lock, stamp });
    return lock;
  }

  /** Sets one stage's entry; an existing entry keeps its place, a new one is appended. */
  record(file: string, stage: string, entry: LockEntry): Promise<void> {
    const run = this.#queue.then(async () => {
      fs.mkdirSync(this.#locksDir, { recursive: true });
      await using _held = await acquireLock(
        path.join(this.#locksDir, `dvc.lock-${createHash('md5').update(file).digest('hex')}.lock`),
        { timeoutMs: this.#timeoutMs, command: `cairn repro (writing ${file})` },
      );
      const lock = new Map(this.read(file));
      lock.set(stage, entry);
      await writeLockFile(file, lock);
      this.#known.set(file, { lock, stamp: stampOf(file) });
      this.#written.add(file);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Once the run is over: remembers the final lock files as parsed JSON for the next run. */
  async flush(): Promise<void> {
    await this.#queue;
    for (const file of this.#written) {
      const known = this.#known.get(file);
      if (known !== undefined && known.stamp === stampOf(file))
        rememberLock(this.#tmpDir, file, memoStamp(file), known.lock);
    }
    this.#written.clear();
  }
}
