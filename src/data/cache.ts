/**
 * The content-addressed object cache in DVC 3's layout: `<dir>/files/md5/<2 hex>/<30 hex>`
 * (directory manifests add `.dir`), legacy 2.x objects at `<dir>/<2 hex>/<30 hex>`. Objects
 * are read-only and enter only through a temp file renamed after its digest was checked.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../core/errors.js';
import type { Md5Hex } from '../core/digest.js';

/** The plain-data description of a cache, cheap to send to worker threads. */
export interface CacheLayout {
  /** absolute cache root */
  readonly dir: string;
  /** file mode for objects: read-only 0o444, or 0o664 for a cache shared by a group (as DVC) */
  readonly fileMode: number;
  readonly dirMode: number;
  /**
   * DVC 2.x's object store in the same folder: md5-dos2unix objects at `<dir>/<2>/<30>`.
   * Outputs recorded without `hash: md5` live there.
   */
  readonly legacy: boolean;
  /** large objects are written past the page cache (off with CAIRN_DIRECT_IO=0) */
  readonly direct: boolean;
}

export function cacheLayout(
  dir: string,
  shared: 'group' | undefined,
  direct: boolean,
): CacheLayout {
  return shared === 'group'
    ? { dir, fileMode: 0o664, dirMode: 0o2775, legacy: false, direct }
    : { dir, fileMode: 0o444, dirMode: 0o777, legacy: false, direct };
}

/** The DVC 2.x object store that shares a cache folder with `cache`. */
export function legacyLayout(cache: CacheLayout): CacheLayout {
  return { ...cache, legacy: true };
}

/** The folder holding the two-hex-digit prefixes, joined once per layout (this is per object). */
const objectBases = new WeakMap<CacheLayout, string>();

/** `<dir>/files/md5` for DVC 3 objects, the cache folder itself for DVC 2.x ones. */
export function objectBase(cache: CacheLayout): string {
  let base = objectBases.get(cache);
  if (base === undefined) {
    base = cache.legacy ? path.join(cache.dir) : path.join(cache.dir, 'files', 'md5');
    objectBases.set(cache, base);
  }
  return base;
}

export function objectPath(cache: CacheLayout, md5: string): string {
  const base = objectBase(cache);
  return `${base}${path.sep}${md5.slice(0, 2)}${path.sep}${md5.slice(2)}`;
}

/** The 256 prefix folders (`files/md5/00` … `ff`) of a DVC 3 cache. */
function prefixDirs(cache: CacheLayout): string[] {
  const base = objectBase(cache);
  return Array.from({ length: 256 }, (_, i) => path.join(base, i.toString(16).padStart(2, '0')));
}

export function tempDir(cache: CacheLayout): string {
  return path.join(cache.dir, '.cairn-tmp');
}

let tempCounter = 0;
/** pid (read once: `process.pid` is a system call) and a tag telling this thread's temps apart */
const tempPrefix = `${process.pid}-${randomBytes(4).toString('hex')}`;

/** A fresh temp path inside the cache, on the same filesystem as the objects. */
export function tempObjectPath(cache: CacheLayout): string {
  tempCounter += 1;
  return `${tempDir(cache)}${path.sep}${tempPrefix}-${tempCounter}`;
}

const madeDirs = new Set<string>();

/** mkdir -p, remembered per process so 70,000 objects cost 256 mkdirs, not 70,000. */
export function ensureDirSync(dir: string, mode = 0o777): void {
  if (madeDirs.has(dir)) return;
  fs.mkdirSync(dir, { recursive: true, mode });
  madeDirs.add(dir);
}

/**
 * Prefix folders (`files/md5/xx`) this thread created: every object in them was stored by
 * this process or by a concurrent writer, so existence is answered from memory, which saves
 * a system call per file on a first add into an empty cache. A concurrent writer's object we
 * do not know of is at worst written again: same bytes, atomic rename.
 */
const freshDirs = new Set<string>();
const storedHere = new Set<string>();

/**
 * On a cache with no DVC 3 objects at all, creates every prefix folder up front and reports
 * true: all threads of this add may then treat every prefix as fresh ({@link adoptFresh}).
 */
export function prepareFreshCache(cache: CacheLayout): boolean {
  const base = objectBase(cache);
  if (cache.legacy || fs.existsSync(base)) return false;
  fs.mkdirSync(base, { recursive: true, mode: cache.dirMode });
  for (const dir of prefixDirs(cache)) fs.mkdirSync(dir, { mode: cache.dirMode });
  adoptFresh(cache);
  return true;
}

/** In a thread working for an add that found the cache empty (see {@link prepareFreshCache}). */
export function adoptFresh(cache: CacheLayout): void {
  for (const dir of prefixDirs(cache)) {
    freshDirs.add(dir);
    madeDirs.add(dir);
  }
}

/**
 * Other threads of this process (workers, the native hasher) stored objects this thread did
 * not see: from now on it looks on disk for them instead of answering from memory.
 */
export function forgetFresh(cache: CacheLayout): void {
  for (const dir of prefixDirs(cache)) freshDirs.delete(dir);
}

export function hasObjectSync(cache: CacheLayout, md5: string): boolean {
  const p = objectPath(cache, md5);
  if (freshDirs.has(path.dirname(p))) return storedHere.has(p);
  return fs.existsSync(p);
}

export async function hasObject(cache: CacheLayout, md5: Md5Hex): Promise<boolean> {
  try {
    await fsp.access(objectPath(cache, md5));
    return true;
  } catch {
    return false;
  }
}

/**
 * Moves a fully written, digest-checked temp file to its object path. A concurrent writer of
 * the same object is harmless: the bytes are identical and rename is atomic.
 */
export function commitTempSync(cache: CacheLayout, tmp: string, md5: string): void {
  const dest = objectPath(cache, md5);
  const dir = path.dirname(dest);
  if (!madeDirs.has(dir)) {
    try {
      fs.mkdirSync(dir, { mode: cache.dirMode });
      freshDirs.add(dir);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST')
        fs.mkdirSync(dir, { recursive: true, mode: cache.dirMode });
    }
    madeDirs.add(dir);
  }
  fs.renameSync(tmp, dest);
  if (freshDirs.has(dir)) storedHere.add(dest);
}

/** Stores bytes already in memory (a `.dir` manifest): the digest is computed by the caller. */
export function storeBytesSync(cache: CacheLayout, md5: string, bytes: Uint8Array): boolean {
  if (hasObjectSync(cache, md5)) return false;
  ensureDirSync(tempDir(cache));
  const tmp = tempObjectPath(cache);
  fs.writeFileSync(tmp, bytes, { mode: cache.fileMode, flag: 'wx' });
  commitTempSync(cache, tmp, md5);
  return true;
}

export async function readObject(cache: CacheLayout, md5: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(objectPath(cache, md5));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The cache epoch changes whenever Cairn removes objects (gc, fsck). Stat snapshots remember
 * the epoch at which they saw all their objects present, so a no-op status need not stat
 * every object again.
 */
export function epochPath(cache: CacheLayout): string {
  return path.join(cache.dir, '.cairn-epoch');
}

export function readEpochSync(cache: CacheLayout): string {
  try {
    return fs.readFileSync(epochPath(cache), 'utf8').trim();
  } catch {
    return NO_EPOCH;
  }
}

/**
 * The epoch a command that stored objects may record, given the one it read before it began.
 * A cache without an epoch gets a random one now (unless another process made one meanwhile:
 * then nothing is vouched for), so a cache deleted by hand and created again never matches a
 * snapshot taken before.
 */
export function recordableEpochSync(cache: CacheLayout, seen: string): string {
  if (seen !== NO_EPOCH) return seen;
  fs.mkdirSync(cache.dir, { recursive: true, mode: cache.dirMode });
  const epoch = randomBytes(8).toString('hex');
  const tmp = `${epochPath(cache)}.${tempPrefix}.tmp`;
  fs.writeFileSync(tmp, epoch);
  try {
    fs.linkSync(tmp, epochPath(cache));
    return epoch;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return '';
    throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** What {@link readEpochSync} returns for a cache without an epoch: it vouches for nothing. */
export const NO_EPOCH = 'none';

export async function bumpEpoch(cache: CacheLayout): Promise<void> {
  await fsp.mkdir(cache.dir, { recursive: true });
  const tmp = `${epochPath(cache)}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, randomBytes(8).toString('hex'));
  await fsp.rename(tmp, epochPath(cache));
}

/**
 * The objects an operation stored before it failed travel on its error (across worker
 * threads too), so the caller can take them out again and leave the cache as it found it.
 */
export function attachStored(error: unknown, md5s: readonly string[]): void {
  if (error === null || typeof error !== 'object' || md5s.length === 0) return;
  const prior = storedOf(error);
  Object.defineProperty(error, 'storedObjects', { value: [...prior, ...md5s], configurable: true });
}

export function storedOf(error: unknown): string[] {
  const value =
    error !== null && typeof error === 'object'
      ? (error as { storedObjects?: unknown }).storedObjects
      : undefined;
  return Array.isArray(value) ? (value as string[]) : [];
}

/**
 * Removes objects this process stored (a failed add rolling back). When an index snapshot
 * written meanwhile vouches for them (`vouched`), the epoch changes first, as for every
 * removal, so that snapshot is checked again.
 */
export async function removeObjects(
  cache: CacheLayout,
  md5s: readonly string[],
  vouched: boolean,
): Promise<void> {
  if (md5s.length === 0) return;
  if (vouched) await bumpEpoch(cache);
  for (const md5 of md5s) {
    const p = objectPath(cache, md5);
    storedHere.delete(p);
    await fsp.rm(p, { force: true });
  }
}

/** The writer's pid in a cache temp name made by {@link tempObjectPath}. */
export function cacheTempPid(name: string): number | undefined {
  const pid = Number(name.split('-')[0]);
  return Number.isInteger(pid) ? pid : undefined;
}
