/**
 * Computes the DVC hash of a file or directory output — reusing the stat index wherever the
 * filesystem says nothing changed — and, when asked, stores every object into the cache in
 * the same pass. Large trees are split into units walked by worker threads.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { md5FromHex, type Md5Hex } from '../core/digest.js';
import { CairnError } from '../core/errors.js';
import type { EventSink } from '../core/events.js';
import { toPosix } from '../core/fs.js';
import {
  hasObjectSync,
  objectPath,
  readEpochSync,
  recordableEpochSync,
  NO_EPOCH,
  attachStored,
  forgetFresh,
  prepareFreshCache,
  storeBytesSync,
  storedOf,
  type CacheLayout,
} from './cache.js';
import { fileAccessError, hashFile, SMALL_FILE } from './hash.js';
import { IgnoreRules } from './ignore.js';
import {
  indexKey,
  RACY_MS,
  StatIndex,
  trusted,
  type IndexedFile,
  type SnapshotHeader,
} from './index.js';
import { buildManifest, sortEntries, type ManifestEntry } from './manifest.js';
import type { WorkerPool } from './pool.js';
import type { ScannedUnit, ScanRequest } from './scan.js';
import { hashUnitsFast, scanUnit, scanUnitsFast } from './scan.js';
import type { HashJobResult } from './worker.js';

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

/** Trees below this many files are walked on the main thread: spawning workers costs more. */
const INLINE_FILES = 3000;
/** Files per hash job sent to a worker. */
const BATCH_FILES = 512;
const BATCH_BYTES = 64 * 1024 * 1024;

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

interface Unit {
  dirs: string[];
  files: string[];
}

/**
 * Splits a tree into units of work by expanding its top levels breadth first, until there
 * are enough folders to keep every thread busy. Leaf folders with many files are not read
 * here: listing them is part of a unit's work.
 */
function planUnits(
  repoRoot: string,
  root: string,
  enough: number,
): { units: Unit[]; expandedAll: boolean; seenFiles: number } {
  const rules = new IgnoreRules(repoRoot);
  const rootRel = IgnoreRules.relTo(repoRoot, root);
  let frontier = [''];
  const units: Unit[] = [];
  let seenFiles = 0;
  for (let depth = 0; depth < 4 && frontier.length > 0 && frontier.length < enough; depth++) {
    const next: string[] = [];
    for (const rel of frontier) {
      const abs = rel === '' ? root : path.join(root, rel);
      const repoRelDir = rootRel === '' ? rel : rel === '' ? rootRel : `${rootRel}/${rel}`;
      rules.enter(repoRelDir);
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(abs, { withFileTypes: true });
      } catch (error) {
        throw fileAccessError(abs, error);
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const files: string[] = [];
      for (const e of entries) {
        const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
        let isDir = e.isDirectory();
        if (e.isSymbolicLink()) {
          try {
            isDir = fs.statSync(path.join(abs, e.name)).isDirectory();
          } catch (error) {
            throw fileAccessError(path.join(abs, e.name), error);
          }
        }
        if (rules.ignores(repoRelDir === '' ? e.name : `${repoRelDir}/${e.name}`, isDir, e.name))
          continue;
        if (isDir) next.push(childRel);
        else files.push(childRel);
      }
      seenFiles += files.length;
      if (files.length > 0) units.push({ dirs: [], files });
    }
    frontier = next;
  }
  for (const rel of frontier) units.push({ dirs: [rel], files: [] });
  return { units, expandedAll: frontier.length === 0, seenFiles };
}

/**
 * Runs items on worker threads and on this thread at once: with N cores, N-1 workers and
 * the main thread each take the next item. Each worker has two items in flight so it never
 * waits for the main thread to hand it more.
 */
async function runParallel<I, R>(
  ctx: HashContext,
  items: readonly I[],
  here: (item: I) => Promise<R> | R,
  there: (pool: WorkerPool, item: I) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  // After a failure no new item starts, but items in flight finish: their side effects
  // (stored objects) must be known before the caller rolls back.
  let failure: { error: unknown } | undefined;
  const take = async (run: (item: I) => Promise<R> | R, yieldAfter: boolean): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await run(items[i] as I);
      } catch (error) {
        failure ??= { error };
        if (failure.error !== error) attachStored(failure.error, storedOf(error));
      }
      // let worker replies in, so their next items go out while we work on ours
      if (yieldAfter) await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const takers: Promise<void>[] = [];
  for (let t = 0; items.length > 1 && t < ctx.pool().size * 2; t++) {
    takers.push(take((item) => there(ctx.pool(), item), false));
  }
  await take(here, true);
  await Promise.all(takers);
  if (failure !== undefined) throw failure.error;
  return results;
}

async function hashDirectory(
  ctx: HashContext,
  abs: string,
  repoRel: string,
  options: HashOptions,
): Promise<OutputInfo> {
  const started = Date.now();
  const header = ctx.index.header(repoRel);
  const epoch = readEpochSync(ctx.cache);
  const firstTime = header?.kind !== 'dir';
  const { units, expandedAll, seenFiles } = planUnits(ctx.repoRoot, abs, 4 * (ctx.pool().size + 1));
  const inline = firstTime ? expandedAll && seenFiles < INLINE_FILES : header.nfiles < INLINE_FILES;
  const store = options.store ? ctx.cache : undefined;

  // Pass 1: walk (and on a first visit, hash and store while walking).
  const legacy = options.legacy === true;
  const scanned = await runUnits(
    ctx,
    abs,
    units,
    inline,
    {
      hash: firstTime && options.known === undefined,
      store,
      legacy,
      fresh: store !== undefined && prepareFreshCache(store),
    },
    options.stored,
  );
  const fingerprint = combineFingerprints(units, scanned);
  const cacheOk = (h: SnapshotHeader): boolean =>
    vouches(h, ctx.cache, epoch) && hasObjectSync(ctx.cache, h.md5);
  if (!firstTime && header.fingerprint === fingerprint && (!options.store || cacheOk(header))) {
    return { kind: 'dir', md5: header.md5 as Md5Hex, size: header.size, nfiles: header.nfiles };
  }

  // Pass 2: reuse what the index knows, hash the rest.
  const snapshot = firstTime ? undefined : ctx.index.load(repoRel);
  const verifyObjects = options.store && !vouches(snapshot?.header, ctx.cache, epoch);
  const files: [string, IndexedFile][] = [];
  const fromKnown = new Set<string>();
  const toHash: { index: number; abs: string; size: number }[] = [];
  let totalSize = 0;
  for (const unit of scanned) {
    for (let i = 0; i < unit.rels.length; i++) {
      const rel = unit.rels[i] ?? '';
      const ino = unit.stats[i * 4] ?? 0;
      const mtimeMs = unit.stats[i * 4 + 1] ?? 0;
      const size = unit.stats[i * 4 + 2] ?? 0;
      const mode = unit.stats[i * 4 + 3] ?? 0;
      totalSize += size;
      let md5 = unit.md5s?.[i] ?? '';
      if (md5 === '') {
        const known = snapshot?.files.get(rel);
        if (trusted(known, ino, mtimeMs, size) && known !== undefined) {
          md5 = known.md5;
          if (verifyObjects && !hasObjectSync(ctx.cache, md5)) md5 = '';
        }
      }
      if (md5 === '' && options.known !== undefined) {
        md5 = options.known.get(rel) ?? '';
        if (md5 !== '') fromKnown.add(rel);
      }
      if (md5 === '') toHash.push({ index: files.length, abs: path.join(abs, rel), size });
      files.push([rel, { ino, mtimeMs, size, mode, md5 }]);
    }
  }
  await hashMissing(ctx, toHash, files, inline, { store, legacy, stored: options.stored });

  const entries: ManifestEntry[] = files.map(([relpath, f]) => ({ relpath, md5: f.md5 }));
  const manifest = buildManifest(sortEntries(entries));
  if (store !== undefined && storeBytesSync(store, manifest.md5, manifest.bytes)) {
    options.stored?.push(manifest.md5);
  }

  let racy = false;
  for (const [rel, f] of files) {
    if (f.mtimeMs >= started - RACY_MS && !fromKnown.has(rel)) {
      f.md5 = '';
      racy = true;
    }
  }
  ctx.index.save(
    repoRel,
    {
      v: 1,
      kind: 'dir',
      md5: manifest.md5,
      size: totalSize,
      nfiles: files.length,
      fingerprint: racy ? '' : fingerprint,
      epoch:
        store !== undefined
          ? recordableEpochSync(store, epoch)
          : keptEpoch(header, manifest.md5, ctx.cache.dir),
      cacheDir: ctx.cache.dir,
    },
    files,
  );
  return { kind: 'dir', md5: manifest.md5, size: totalSize, nfiles: files.length };
}

type WalkMode = { hash: boolean; store: CacheLayout | undefined; legacy: boolean; fresh: boolean };

async function runUnits(
  ctx: HashContext,
  abs: string,
  units: Unit[],
  inline: boolean,
  mode: WalkMode,
  stored: string[] | undefined,
): Promise<ScannedUnit[]> {
  try {
    return await walkTree(ctx, abs, units, inline, mode, stored);
  } finally {
    // Workers and the native hasher stored objects this thread does not know of.
    if (mode.store !== undefined) forgetFresh(mode.store);
  }
}

async function walkTree(
  ctx: HashContext,
  abs: string,
  units: Unit[],
  inline: boolean,
  mode: WalkMode,
  stored: string[] | undefined,
): Promise<ScannedUnit[]> {
  const hash = mode.hash;
  const request = (u: Unit): ScanRequest => ({
    repoRoot: ctx.repoRoot,
    root: abs,
    dirs: u.dirs,
    files: u.files,
    ...mode,
  });
  let done = 0;
  const report = (unit: ScannedUnit): ScannedUnit => {
    stored?.push(...unit.stored);
    done += unit.rels.length;
    ctx.sink({ type: 'progress', phase: hash ? 'hash' : 'scan', done });
    return unit;
  };
  if (!hash) {
    // Only listing and lstat: the native scanner does it on every core at once.
    const fast = scanUnitsFast(units.map(request), os.availableParallelism());
    if (fast.every((u) => u !== undefined)) return fast.map(report);
    if (fast.some((u) => u !== undefined)) {
      return fast.map((u, i) => report(u ?? scanUnit(request(units[i] as Unit))));
    }
  } else if (!mode.legacy) {
    // A first add: the native hasher reads, hashes and stores small files on every core,
    // without a JavaScript string or Buffer per file; what it declines goes to the workers.
    const fast = await hashUnitsFast(units.map(request), os.availableParallelism(), report);
    if (fast !== undefined) {
      const declined: ScanRequest[] = [];
      fast.forEach((u, i) => {
        if (!('declined' in u)) return;
        stored?.push(...u.stored);
        declined.push(request(units[i] as Unit));
      });
      const rest = declined.length === 0 ? [] : await walkUnits(ctx, declined, inline, report);
      return fast.map((u) => {
        if (!('declined' in u)) return u;
        const walked = rest.shift();
        if (walked === undefined) throw new Error('Internal error: a declined unit was not walked');
        return walked;
      });
    }
  }
  return walkUnits(ctx, units.map(request), inline, report);
}

/** scanUnit over requests, on this thread for small trees, else on the workers as well. */
async function walkUnits(
  ctx: HashContext,
  requests: ScanRequest[],
  inline: boolean,
  report: (unit: ScannedUnit) => ScannedUnit,
): Promise<ScannedUnit[]> {
  if (inline) return requests.map((r) => report(scanUnit(r)));
  return runParallel(
    ctx,
    requests,
    (r) => report(scanUnit(r)),
    async (pool, r) => report(await pool.run<ScannedUnit>({ kind: 'scan', request: r })),
  );
}

function combineFingerprints(units: Unit[], scanned: ScannedUnit[]): string {
  const parts = units.map(
    (u, i) => `${u.dirs.join('/')}|${u.files.length}|${scanned[i]?.fingerprint ?? ''}`,
  );
  return buildManifest([{ relpath: parts.join('\n'), md5: '0'.repeat(32) }]).md5.slice(0, 32);
}

async function hashMissing(
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

/** The snapshot saw all its objects in `cache` at this epoch, and nothing was removed since. */
function vouches(header: SnapshotHeader | undefined, cache: CacheLayout, epoch: string): boolean {
  return (
    header !== undefined &&
    epoch !== NO_EPOCH &&
    header.epoch === epoch &&
    header.cacheDir === cache.dir
  );
}

/** A save that did not store objects keeps the previous verification if nothing changed. */
function keptEpoch(previous: SnapshotHeader | undefined, md5: string, cacheDir: string): string {
  return previous !== undefined && previous.md5 === md5 && previous.cacheDir === cacheDir
    ? previous.epoch
    : '';
}

/** Every object of an output present in the cache? Uses the index's epoch to skip the stats. */
export function objectsPresent(
  ctx: HashContext,
  cache: CacheLayout,
  key: string,
  md5: string,
  entries: () => ManifestEntry[] | undefined,
): boolean {
  const header = ctx.index.header(key);
  const epoch = readEpochSync(cache);
  const top = objectPath(cache, md5);
  if (header?.md5 === md5 && vouches(header, cache, epoch) && fs.existsSync(top)) return true;
  if (!fs.existsSync(top)) return false;
  const list = md5.endsWith('.dir') ? entries() : [];
  if (list === undefined) return false;
  if (!list.every((e) => fs.existsSync(objectPath(cache, e.md5)))) return false;
  // Remember the verification so the next status needs none.
  if (header?.md5 === md5 && header.cacheDir === cache.dir) {
    const snapshot = ctx.index.load(key);
    if (snapshot !== undefined) ctx.index.save(key, { ...snapshot.header, epoch }, snapshot.files);
  }
  return true;
}
