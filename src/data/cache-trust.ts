/**
 * Cache-epoch trust: an index snapshot records the cache epoch at which it saw all its
 * objects; while the epoch is unchanged (nothing was removed from the cache), the snapshot
 * vouches for them and no object needs a stat.
 */
import fs from 'node:fs';
import { NO_EPOCH, objectPath, readEpochSync, type CacheLayout } from './cache.js';
import type { SnapshotHeader } from './index.js';
import type { ManifestEntry } from './manifest.js';
import type { HashContext } from './tree.js';

/** The snapshot saw all its objects in `cache` at this epoch, and nothing was removed since. */
export function vouches(
  header: SnapshotHeader | undefined,
  cache: CacheLayout,
  epoch: string,
): boolean {
  return (
    header !== undefined &&
    epoch !== NO_EPOCH &&
    header.epoch === epoch &&
    header.cacheDir === cache.dir
  );
}

/** A save that did not store objects keeps the previous verification if nothing changed. */
export function keptEpoch(
  previous: SnapshotHeader | undefined,
  md5: string,
  cacheDir: string,
): string {
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
