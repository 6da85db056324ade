/**
 * Hashes a directory output in two passes: walk the units (hashing as it goes on a first
 * visit), and if the tree's fingerprint changed, reuse every md5 the stat index still vouches
 * for and hash only the rest.
 */
import path from 'node:path';
import type { Md5Hex } from '../core/digest.js';
import {
  hasObjectSync,
  prepareFreshCache,
  readEpochSync,
  recordableEpochSync,
  storeBytesSync,
} from './cache.js';
import { keptEpoch, vouches } from './cache-trust.js';
import { hashMissing } from './hash-batches.js';
import { RACY_MS, trusted, type IndexedFile, type SnapshotHeader } from './index.js';
import { buildManifest, sortEntries, type ManifestEntry } from './manifest.js';
import type { HashContext, HashOptions, OutputInfo } from './tree.js';
import { combineFingerprints, planUnits } from './units.js';
import { runUnits } from './walk.js';

/** Trees below this many files are walked on the main thread: spawning workers costs more. */
const INLINE_FILES = 3000;

export async function hashDirectory(
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
