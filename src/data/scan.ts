/**
 * Walks one part of a directory tree synchronously (in a worker thread, usually): sorted
 * pre-order, symlinks followed with loop detection, `.dvcignore` applied. Optionally hashes
 * and stores each file as it goes, for a first `add` where nothing is indexed yet. The native
 * helpers (native.ts) do the same walk faster for the plain cases and hand back the rest.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import { adoptFresh, attachStored, objectBase, tempDir, type CacheLayout } from './cache.js';
import { fileAccessError, hashLegacySync, hashSmallFileSync, SMALL_FILE } from './hash.js';
import { IgnoreRules } from './ignore.js';
import { nativeHelpers, type NativeHelpers, type NativeStore } from './native.js';

/** Files found under one unit of work, in walk order. */
export interface ScannedUnit {
  /** POSIX paths relative to the scanned root */
  rels: string[];
  /** ino, mtimeMs, size, mode per file (4 numbers each) */
  stats: Float64Array;
  /** md5 per file when hashing was asked for; '' for files left to the caller (large ones) */
  md5s: string[] | undefined;
  /** md5 over every rel and (ino, mtime, size, mode): equal fingerprints mean an unchanged unit */
  fingerprint: string;
  /** objects this walk wrote into the cache */
  stored: string[];
}

export interface ScanRequest {
  repoRoot: string;
  /** absolute path of the tracked directory */
  root: string;
  /** sub-folders of root to walk ('' for root itself, non-recursively for `files`) */
  dirs: string[];
  /** individual files directly under root (POSIX rel) */
  files: string[];
  /** hash and store each small file into this cache while walking */
  store: CacheLayout | undefined;
  hash: boolean;
  /** hash as DVC 2.x did (md5-dos2unix), to compare with legacy records */
  legacy: boolean;
  /** the cache had no objects when this add began (see prepareFreshCache) */
  fresh: boolean;
}

export function scanUnit(req: ScanRequest): ScannedUnit {
  const stored: string[] = [];
  if (req.fresh && req.store !== undefined) adoptFresh(req.store);
  try {
    return walkUnit(req, stored);
  } catch (error) {
    attachStored(error, stored);
    throw error;
  }
}

function walkUnit(req: ScanRequest, stored: string[]): ScannedUnit {
  const rules = new IgnoreRules(req.repoRoot);
  const rootRel = IgnoreRules.relTo(req.repoRoot, req.root);
  const rels: string[] = [];
  const stats: number[] = [];
  const md5s: string[] | undefined = req.hash ? [] : undefined;

  const addFile = (rel: string, abs: string, st: fs.Stats): void => {
    rels.push(rel);
    stats.push(st.ino, st.mtimeMs, st.size, st.mode);
    if (md5s !== undefined) {
      const stat = { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, mode: st.mode };
      if (req.legacy) md5s.push(hashLegacySync(abs, stat).md5);
      else if (st.size > SMALL_FILE) md5s.push('');
      else {
        const hashed = hashSmallFileSync(abs, req.store, stat);
        md5s.push(hashed.md5);
        if (hashed.stored) stored.push(hashed.md5);
      }
    }
  };

  const ancestors = new Set<string>();
  const walk = (rel: string): void => {
    const abs = rel === '' ? req.root : `${req.root}/${rel}`;
    const dirStat = statFollow(abs);
    const key = `${dirStat.dev}:${dirStat.ino}`;
    if (ancestors.has(key)) {
      throw new CairnError('symlink-loop', `Symbolic link loop at ${abs}`, {
        hint: 'Remove the link or add it to .dvcignore.',
      });
    }
    ancestors.add(key);
    const repoRelDir = rootRel === '' ? rel : rel === '' ? rootRel : `${rootRel}/${rel}`;
    rules.enter(repoRelDir);
    let names: string[];
    try {
      names = fs.readdirSync(abs);
    } catch (error) {
      throw fileAccessError(abs, error);
    }
    names.sort();
    for (const name of names) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const childAbs = `${abs}/${name}`;
      let st = lstat(childAbs);
      if (st.isSymbolicLink()) st = statFollow(childAbs);
      const repoRel = repoRelDir === '' ? name : `${repoRelDir}/${name}`;
      if (rules.ignores(repoRel, st.isDirectory(), name)) continue;
      if (st.isDirectory()) walk(childRel);
      else if (st.isFile()) addFile(childRel, childAbs, st);
      // sockets, fifos and devices are not data; DVC skips them too
    }
    ancestors.delete(key);
  };

  for (const file of req.files) {
    const abs = path.join(req.root, file);
    let st = lstat(abs);
    if (st.isSymbolicLink()) st = statFollow(abs);
    if (st.isFile()) addFile(file, abs, st);
  }
  for (const dir of req.dirs) walk(dir);
  const packed = Float64Array.from(stats);
  return {
    rels,
    stats: packed,
    md5s,
    fingerprint: unitFingerprint(rels.join('\0'), packed),
    stored,
  };
}

/** Over names (NUL-joined) and raw stat numbers: cheaper than formatting a line per file. */
function unitFingerprint(names: string | Buffer, stats: Float64Array): string {
  return createHash('md5')
    .update(names)
    .update(new Uint8Array(stats.buffer, stats.byteOffset, stats.byteLength))
    .digest('hex');
}

/**
 * The native helpers, when they may walk these units (all of one root) exactly as scanUnit
 * would: they are loaded and no `.dvcignore` rules apply from above the root or from the
 * folders between it and each unit. (A `.dvcignore` inside a unit makes the native walker
 * decline that unit.)
 */
function nativeFor(requests: readonly ScanRequest[]): NativeHelpers | undefined {
  const first = requests[0];
  const native = nativeHelpers();
  if (first === undefined || native === undefined) return undefined;
  const rules = new IgnoreRules(first.repoRoot);
  const rootRel = IgnoreRules.relTo(first.repoRoot, first.root);
  // the folders whose rules apply to `rel` (a unit's folder or file), from the root down
  const enterAbove = (rel: string): void => {
    const parent = rel.includes('/') ? path.posix.dirname(rel) : '';
    rules.enter(rootRel === '' ? parent : parent === '' ? rootRel : `${rootRel}/${parent}`);
  };
  enterAbove('');
  for (const r of requests) {
    for (const dir of r.dirs) enterAbove(dir);
    for (const file of r.files) enterAbove(file);
  }
  return rules.empty ? native : undefined;
}

/**
 * Walks units without hashing, with the native scanner where it can take them (see
 * native.ts) and scanUnit for the rest. The results, fingerprints included, are the same as
 * scanUnit's: the native walk visits the same files in the same order.
 */
export function scanUnitsFast(
  requests: ScanRequest[],
  threads: number,
): (ScannedUnit | undefined)[] {
  const native = nativeFor(requests);
  const first = requests[0];
  if (first === undefined || native === undefined) return requests.map(() => undefined);
  const raw = native.scanUnits(
    first.root,
    requests.map((r) => [r.dirs, r.files]),
    threads,
  );
  return raw.map((unit) => {
    if (unit === null) return undefined;
    const [names, stats] = unit;
    return {
      rels: relsOf(names),
      stats,
      md5s: undefined,
      fingerprint: unitFingerprint(names, stats),
      stored: [],
    };
  });
}

/** A unit the native hasher handed back to scanUnit. */
export interface DeclinedUnit {
  declined: true;
  /** objects it stored before declining: they are in the cache because of this add */
  stored: string[];
}

/**
 * A first add's walk (scanUnit with `hash`, not legacy) by the native hasher, `concurrency`
 * units at a time on libuv's pool; each unit goes to `onUnit` as it finishes, for progress.
 * Undefined when the native helpers cannot take this tree at all; otherwise the units in
 * order, where a declined one is left to scanUnit. Results equal scanUnit's: same files,
 * stats, fingerprints and md5s ('' for files over {@link SMALL_FILE}), same objects stored.
 */
export async function hashUnitsFast(
  requests: ScanRequest[],
  concurrency: number,
  onUnit: (unit: ScannedUnit) => void,
): Promise<(ScannedUnit | DeclinedUnit)[] | undefined> {
  const native = nativeFor(requests);
  if (native === undefined || requests.some((r) => !r.hash || r.legacy || r.store?.legacy)) {
    return undefined;
  }
  const results = new Array<ScannedUnit | DeclinedUnit>(requests.length);
  let next = 0;
  const take = async (): Promise<void> => {
    while (next < requests.length) {
      const i = next++;
      const req = requests[i] as ScanRequest;
      const [names, stats, md5s, stored] = await native.hashUnit(
        req.root,
        req.dirs,
        req.files,
        req.store === undefined ? null : nativeStore(req.store, req.fresh),
      );
      if (names === null) {
        results[i] = { declined: true, stored: hexList(stored) };
        continue;
      }
      const unit: ScannedUnit = {
        rels: relsOf(names),
        stats,
        md5s: hexList(md5s).map((md5) => (md5.startsWith('-') ? '' : md5)),
        fingerprint: unitFingerprint(names, stats),
        stored: hexList(stored),
      };
      results[i] = unit;
      onUnit(unit);
    }
  };
  const takers = Math.max(1, Math.min(concurrency, requests.length));
  await Promise.all(Array.from({ length: takers }, take));
  return results;
}

function nativeStore(cache: CacheLayout, fresh: boolean): NativeStore {
  return {
    base: objectBase(cache),
    tempDir: tempDir(cache),
    fileMode: cache.fileMode,
    dirMode: cache.dirMode,
    fresh,
  };
}

function relsOf(names: Buffer): string[] {
  return names.length === 0 ? [] : names.toString('utf8').split('\0');
}

/** 32 hex digits per item, back to back (latin1: one byte per digit). */
function hexList(bytes: Buffer): string[] {
  const text = bytes.toString('latin1');
  const out = new Array<string>(text.length / 32);
  for (let i = 0; i < out.length; i++) out[i] = text.slice(i * 32, i * 32 + 32);
  return out;
}

function lstat(abs: string): fs.Stats {
  try {
    return fs.lstatSync(abs);
  } catch (error) {
    throw fileAccessError(abs, error);
  }
}

function statFollow(abs: string): fs.Stats {
  try {
    return fs.statSync(abs);
  } catch (error) {
    throw fileAccessError(abs, error);
  }
}
