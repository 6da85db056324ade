/**
 * Per-path locks between `cairn repro` processes: a stage holds the locks of its outputs (and
 * of the deps other stages produce) while it checks, runs and records, so two repros of
 * disjoint targets run side by side and overlapping ones wait with a message. Inside one
 * process the scheduler already orders stages, so a path lock held here is shared.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { acquireLock, type HeldLock } from '../core/lock.js';

export class PathLocks {
  readonly #dir: string;
  readonly #timeoutMs: number;
  readonly #held = new Map<string, { lock: Promise<HeldLock>; count: number }>();

  constructor(tmpDir: string, timeoutMs: number, jobs: number) {
    // Each held lock file registers an exit handler that removes it if we die uncleanly.
    process.setMaxListeners(Math.max(process.getMaxListeners(), 16 + jobs * 16));
    this.#dir = path.join(tmpDir, 'locks');
    this.#timeoutMs = timeoutMs;
  }

  lockPath(key: string): string {
    return path.join(this.#dir, `${createHash('md5').update(key).digest('hex')}.lock`);
  }

  /** Takes every key's lock in sorted order (no lock-order inversions between processes). */
  async acquire(
    keys: Iterable<string>,
    command: string,
    onWait: (key: string, owner: { pid: number; command: string }) => void,
  ): Promise<() => Promise<void>> {
    fs.mkdirSync(this.#dir, { recursive: true });
    const sorted = [...new Set(keys)].sort();
    const taken: string[] = [];
    try {
      for (const key of sorted) {
        const held = this.#held.get(key);
        if (held !== undefined) {
          held.count++;
          taken.push(key);
          await held.lock;
          continue;
        }
        const lock = acquireLock(this.lockPath(key), {
          timeoutMs: this.#timeoutMs,
          command,
          onWait: (_message, owner) => {
            onWait(key, owner);
          },
        });
        this.#held.set(key, { lock, count: 1 });
        taken.push(key);
        await lock;
      }
    } catch (error) {
      await this.#release(taken);
      throw error;
    }
    return () => this.#release(taken);
  }

  async #release(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const held = this.#held.get(key);
      if (held === undefined) continue;
      held.count--;
      if (held.count > 0) continue;
      this.#held.delete(key);
      try {
        await (await held.lock).release();
      } catch {
        // the acquire itself failed; nothing to release
      }
    }
  }
}
