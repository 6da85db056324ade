/**
 * `gc` keeps every object the workspace's `.dvc` files and dvc.lock reference (and, on request,
 * those of every branch, tag or commit) and removes the rest; `fsck` re-hashes every object
 * and sets corrupt ones aside. Both bump the cache epoch before removing anything.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { isDirMd5, parseMd5, type Md5Hex } from '../core/digest.js';
import { sweepDeadTemps, tempSiblingPid } from '../core/fs.js';
import { listBlobs, listRevisions, readBlobs, type RevisionSelection } from '../core/git.js';
import { bumpEpoch, cacheTempPid, objectPath, tempDir, type CacheLayout } from './cache.js';
import { DVC_SUFFIX, parseDvcFile } from './dvcfile.js';
import { parseManifest } from './manifest.js';
import type { HashJobResult } from './worker.js';
import type { Workspace } from './workspace.js';

export interface GcOptions extends RevisionSelection {
  /** delete for real; otherwise report only */
  force: boolean;
}

export interface GcResult {
  dryRun: boolean;
  /** md5s removed (or that would be) */
  removed: string[];
  /** bytes */
  bytes: number;
  kept: number;
  revisions: number;
  warnings: string[];
}

/** md5s (files and .dir) that the text of a .dvc file or dvc.lock names. */
function referencedIn(name: string, text: string, into: Set<string>, warnings: string[]): void {
  if (name.endsWith(DVC_SUFFIX)) {
    try {
      for (const out of parseDvcFile(name, text).outs) if (out.md5 !== undefined) into.add(out.md5);
    } catch (error) {
      warnings.push(`skipped ${name}: ${(error as Error).message}`);
    }
    return;
  }
  // dvc.lock: stages.<name>.outs[].md5 (deps are someone else's outputs or untracked files)
  try {
    const lock = parse(text) as { stages?: Record<string, { outs?: { md5?: unknown }[] }> } | null;
    for (const stage of Object.values(lock?.stages ?? {})) {
      for (const out of stage.outs ?? []) {
        const md5 = typeof out.md5 === 'string' ? parseMd5(out.md5) : undefined;
        if (md5 !== undefined) into.add(md5);
      }
    }
  } catch (error) {
    warnings.push(`skipped ${name}: ${(error as Error).message}`);
  }
}

const isMetaFile = (p: string): boolean =>
  p.endsWith(DVC_SUFFIX) || p === 'dvc.lock' || p.endsWith('/dvc.lock');

export async function collectUsed(
  ws: Workspace,
  sel: RevisionSelection,
  warnings: string[],
): Promise<{ used: Set<string>; revisions: number }> {
  const roots = new Set<string>();
  for (const file of ws.dvcFiles())
    referencedIn(file, await fsp.readFile(file, 'utf8'), roots, warnings);
  for (const lock of [path.join(ws.repoRoot, 'dvc.lock')]) {
    if (fs.existsSync(lock)) referencedIn(lock, await fsp.readFile(lock, 'utf8'), roots, warnings);
  }
  let revisions = 0;
  if (sel.allBranches || sel.allTags || sel.allCommits) {
    const revs = await listRevisions(ws.repoRoot, sel);
    revisions = revs.length;
    const blobsByName = new Map<string, string>();
    for (const rev of revs) {
      for (const b of await listBlobs(ws.repoRoot, rev, isMetaFile))
        blobsByName.set(b.blob, b.path);
    }
    const contents = await readBlobs(ws.repoRoot, [...blobsByName.keys()]);
    for (const [blob, text] of contents)
      referencedIn(blobsByName.get(blob) ?? 'x.dvc', text.toString('utf8'), roots, warnings);
  }
  const used = new Set<string>(roots);
  for (const md5 of roots) {
    if (!isDirMd5(md5 as Md5Hex)) continue;
    const p = objectPath(ws.cache, md5);
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(p);
    } catch {
      warnings.push(
        `manifest ${md5} is not in the cache; the files it lists cannot be protected by it`,
      );
      continue;
    }
    try {
      for (const e of parseManifest(bytes, p)) used.add(e.md5);
    } catch (error) {
      warnings.push((error as Error).message);
    }
  }
  return { used, revisions };
}

export interface CacheObject {
  md5: string;
  path: string;
}

/** Every object under files/md5/ (DVC 3 layout). */
export async function listObjects(cache: CacheLayout): Promise<CacheObject[]> {
  const base = path.join(cache.dir, 'files', 'md5');
  const found: CacheObject[] = [];
  let prefixes: string[];
  try {
    prefixes = await fsp.readdir(base);
  } catch {
    return found;
  }
  for (const prefix of prefixes.sort()) {
    if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
    for (const name of (await fsp.readdir(path.join(base, prefix))).sort()) {
      const md5 = parseMd5(`${prefix}${name}`);
      if (md5 !== undefined) found.push({ md5, path: path.join(base, prefix, name) });
    }
  }
  return found;
}

/** Temp files left by killed writers (their pid is gone): in the cache, index and staging. */
async function sweepTemps(ws: Workspace): Promise<void> {
  await sweepDeadTemps(tempDir(ws.cache), cacheTempPid);
  await sweepDeadTemps(path.join(ws.repo.tmpDir, 'index'), tempSiblingPid);
  await sweepDeadTemps(ws.stagingDir, tempSiblingPid);
}

export async function collectGarbage(ws: Workspace, options: GcOptions): Promise<GcResult> {
  const warnings: string[] = [];
  const { used, revisions } = await collectUsed(ws, options, warnings);
  const objects = await listObjects(ws.cache);
  const unused = objects.filter((o) => !used.has(o.md5));
  let bytes = 0;
  for (const o of unused) bytes += (await fsp.stat(o.path)).size;
  if (options.force) {
    await sweepTemps(ws);
    if (unused.length > 0) await bumpEpoch(ws.cache);
    let done = 0;
    for (const o of unused) {
      await fsp.rm(o.path, { force: true });
      done += 1;
      ws.sink({ type: 'progress', phase: 'gc', done, total: unused.length });
    }
  }
  return {
    dryRun: !options.force,
    removed: unused.map((o) => o.md5),
    bytes,
    kept: objects.length - unused.length,
    revisions,
    warnings,
  };
}

export interface FsckResult {
  checked: number;
  /** bytes */
  bytes: number;
  corrupt: { md5: string; reason: string; movedTo: string }[];
}

/** Re-hashes every object in parallel; mismatches move to `<cache>/quarantine/`. */
export async function checkCache(ws: Workspace): Promise<FsckResult> {
  const objects = await listObjects(ws.cache);
  const result: FsckResult = { checked: 0, bytes: 0, corrupt: [] };
  const quarantine = path.join(ws.cache.dir, 'quarantine');
  const batches: CacheObject[][] = [];
  for (let i = 0; i < objects.length; i += 256) batches.push(objects.slice(i, i + 256));
  const pool = ws.pool();
  let epochBumped = false;
  const setAside = async (o: CacheObject, reason: string): Promise<void> => {
    if (!epochBumped) {
      epochBumped = true;
      await bumpEpoch(ws.cache);
    }
    await fsp.mkdir(quarantine, { recursive: true });
    const dest = path.join(quarantine, `${o.md5}.${Date.now()}`);
    await fsp.rename(o.path, dest);
    result.corrupt.push({ md5: o.md5, reason, movedTo: dest });
  };
  await Promise.all(
    batches.map(async (batch) => {
      const hashed = await pool.run<HashJobResult>({
        kind: 'hash',
        files: batch.map((o) => ({ abs: o.path, size: fs.statSync(o.path).size })),
        store: undefined,
        legacy: false,
      });
      for (let i = 0; i < batch.length; i++) {
        const o = batch[i];
        const md5 = hashed.md5s[i];
        if (o === undefined || md5 === undefined) continue;
        result.checked += 1;
        result.bytes += hashed.stats[i]?.size ?? 0;
        ws.sink({ type: 'progress', phase: 'fsck', done: result.checked, total: objects.length });
        const expected = o.md5.slice(0, 32);
        if (md5 !== expected) {
          await setAside(o, `content hashes to ${md5}`);
          continue;
        }
        if (isDirMd5(o.md5 as Md5Hex)) {
          try {
            parseManifest(await fsp.readFile(o.path), o.path);
          } catch (error) {
            await setAside(o, (error as Error).message);
          }
        }
      }
    }),
  );
  await sweepTemps(ws);
  return result;
}
