/**
 * Computes the DVC hash of a file or directory output — reusing the stat index wherever the
 * filesystem says nothing changed — and, when asked, stores every object into the cache in
 * the same pass. This file holds the entry point and single files; directories are in
 * dir-hash.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { md5FromHex, type Md5Hex } from '../core/digest.js';
import { CairnError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { toPosix } from '../core/fs.js';
import {
  hasObjectSync,
  readEpochSync,
  recordableEpochSync,
  storedOf,
  type CacheLayout,
} from './cache.js';
import { keptEpoch } from './cache-trust.js';
import { hashDirectory } from './dir-hash.js';
import { fileAccessError, hashFile } from './hash.js';
import { indexKey, RACY_MS, StatIndex, trusted } from './index.js';
import type { WorkerPool } from './pool.js';

export interface HashContext {
  repoRoot: string;
  cache: CacheLayout;
  index: StatIndex;
  /** worker threads for large jobs, created on first use */
  pool(): WorkerPool;
  sink: EventSink;
}

export interface OutputInfo {
  kind: 'file' | 'dir';
  md5: Md5Hex;
  /** bytes; for a directory, the sum over its files */
  size: number;
  /** directories only */
  nfiles?: number;
  /** files only: any execute bit set */
  isexec?: boolean;
}

export interface HashOptions {
  /** also write every object into the cache (add, commit) */
  store: boolean;
  /**
   * md5s of files this process has just written (checkout): used instead of hashing them
   * again, and trusted even though their mtime is recent.
   */
  known?: ReadonlyMap<string, string>;
  /** receives the md5 of every object this call wrote into the cache, even when it fails */
  stored?: string[];
  /**
   * Hash as DVC 2.x did (md5-dos2unix) to compare with records that lack `hash: md5`.
   * Never combined with `store`: new records always use DVC 3's plain md5.
   */
  legacy?: boolean;
}

export async function hashOutput(
  ctx: HashContext,
  abs: string,
  options: HashOptions,
): Promise<OutputInfo> {
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (error) {
    throw fileAccessError(abs, error);
  }
  if (options.legacy === true && options.store) {
    throw new Error('Internal error: legacy (md5-dos2unix) hashes are never stored');
  }
  // Legacy hashes of the same path are indexed apart from DVC 3 ones.
  const repoRel = indexKey(toPosix(path.relative(ctx.repoRoot, abs)), options.legacy === true);
  try {
    if (st.isDirectory()) return await hashDirectory(ctx, abs, repoRel, options);
    if (st.isFile()) return await hashSingleFile(ctx, abs, repoRel, st, options);
  } catch (error) {
    // what the failing job had stored; finished jobs reported theirs already
    options.stored?.push(...storedOf(error));
    throw error;
  }
  throw new CairnError('unsupported-file', `${abs} is neither a regular file nor a directory`, {
    hint: 'Only files and directories can be tracked.',
  });
}

async function hashSingleFile(
  ctx: HashContext,
  abs: string,
  repoRel: string,
  st: fs.Stats,
  options: HashOptions,
): Promise<OutputInfo> {
  const started = Date.now();
  const snap = ctx.index.load(repoRel);
  const known = snap?.header.kind === 'file' ? snap.files.get('') : undefined;
  let md5: string | undefined;
  let stat = { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, mode: st.mode };
  if (trusted(known, st.ino, st.mtimeMs, st.size) && known !== undefined) {
    if (!options.store || hasObjectSync(ctx.cache, known.md5)) md5 = known.md5;
  }
  const fromKnown = md5 === undefined ? options.known?.get('') : undefined;
  if (fromKnown !== undefined) md5 = fromKnown;
  if (md5 === undefined) {
    const hashed = await hashFile(
      abs,
      st.size,
      options.store ? ctx.cache : undefined,
      (bytes) => {
        ctx.sink({
          type: 'progress',
          phase: 'hash',
          done: 0,
          total: 1,
          bytes,
          totalBytes: st.size,
        });
      },
      options.legacy,
    );
    md5 = hashed.md5;
    if (hashed.stored) options.stored?.push(md5);
    stat = hashed.stat;
    ctx.sink({
      type: 'progress',
      phase: 'hash',
      done: 1,
      total: 1,
      bytes: stat.size,
      totalBytes: stat.size,
    });
  }
  const racy = fromKnown === undefined && stat.mtimeMs >= started - RACY_MS;
  const epoch = readEpochSync(ctx.cache);
  ctx.index.save(
    repoRel,
    {
      v: 1,
      kind: 'file',
      md5,
      size: stat.size,
      nfiles: 1,
      fingerprint: '',
      epoch: options.store
        ? recordableEpochSync(ctx.cache, epoch)
        : keptEpoch(snap?.header, md5, ctx.cache.dir),
      cacheDir: ctx.cache.dir,
    },
    [['', { ...stat, md5: racy ? '' : md5 }]],
  );
  const info: OutputInfo = { kind: 'file', md5: md5FromHex(md5), size: stat.size };
  if ((stat.mode & 0o111) !== 0) info.isexec = true;
  return info;
}
