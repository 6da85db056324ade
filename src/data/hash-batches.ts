/**
 * Hashes the files of a tree the stat index could not vouch for, in batches (many small files,
 * or one large one) spread over the workers and this thread, filling in their index entries.
 */
import { attachStored, forgetFresh, type CacheLayout } from './cache.js';
import { hashFile, SMALL_FILE } from './hash.js';
import type { IndexedFile } from './index.js';
import { runParallel } from './parallel.js';
import type { HashContext } from './tree.js';
import type { HashJobResult } from './worker.js';

/** Files per hash job sent to a worker. */
const BATCH_FILES = 512;
const BATCH_BYTES = 64 * 1024 * 1024;

export async function hashMissing(
  ctx: HashContext,
  toHash: { index: number; abs: string; size: number }[],
  files: [string, IndexedFile][],
  inline: boolean,
  mode: { store: CacheLayout | undefined; legacy: boolean; stored: string[] | undefined },
): Promise<void> {
  if (toHash.length === 0) return;
  const { store, legacy } = mode;
  const totalBytes = toHash.reduce((n, f) => n + f.size, 0);
  let done = 0;
  let bytes = 0;
  const apply = (batch: typeof toHash, result: HashJobResult): void => {
    mode.stored?.push(...result.stored);
    batch.forEach((f, i) => {
      const entry = files[f.index]?.[1];
      const stat = result.stats[i];
      if (entry === undefined || stat === undefined)
        throw new Error('Internal error: hash result out of range');
      entry.md5 = result.md5s[i] ?? '';
      Object.assign(entry, {
        ino: stat.ino,
        mtimeMs: stat.mtimeMs,
        size: stat.size,
        mode: stat.mode,
      });
    });
    done += batch.length;
    bytes += batch.reduce((n, f) => n + f.size, 0);
    ctx.sink({ type: 'progress', phase: 'hash', done, total: toHash.length, bytes, totalBytes });
  };
  const batches: (typeof toHash)[] = [];
  let current: typeof toHash = [];
  let currentBytes = 0;
  for (const f of toHash) {
    if (f.size > SMALL_FILE) {
      batches.push([f]);
      continue;
    }
    current.push(f);
    currentBytes += f.size;
    if (current.length >= BATCH_FILES || currentBytes >= BATCH_BYTES) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
  }
  if (current.length > 0) batches.push(current);

  const hashHere = async (batch: typeof toHash): Promise<void> => {
    const result: HashJobResult = { md5s: [], stats: [], stored: [] };
    try {
      for (const f of batch) {
        const h = await hashFile(f.abs, f.size, store, undefined, legacy);
        result.md5s.push(h.md5);
        result.stats.push(h.stat);
        if (h.stored) result.stored.push(h.md5);
      }
    } catch (error) {
      attachStored(error, result.stored);
      throw error;
    }
    apply(batch, result);
  };
  if (inline || toHash.length === 1) {
    for (const batch of batches) await hashHere(batch);
    return;
  }
  await runParallel(ctx, batches, hashHere, async (pool, batch) => {
    const result = await pool.run<HashJobResult>({
      kind: 'hash',
      files: batch.map((f) => ({ abs: f.abs, size: f.size })),
      store,
      legacy,
    });
    apply(batch, result);
  });
  // the workers stored objects this thread does not know of
  if (store !== undefined) forgetFresh(store);
}
