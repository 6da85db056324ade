/**
 * `checkout`: make workspace outputs match their `.dvc` files from the cache. Files whose
 * current content exists nowhere else (not in the cache) are never overwritten or deleted
 * without `--force`.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isDirMd5 } from '../core/digest.js';
import { CairnError } from '../core/errors.js';
import { isInside } from '../core/fs.js';
import { hasObjectSync, legacyLayout, objectPath, readObject, type CacheLayout } from './cache.js';
import { DVC_SUFFIX, outPath, readDvcFile, type DvcFile, type DvcOut } from './dvcfile.js';
import { alreadyLinked, chooseLinkType, placeObject } from './link.js';
import { indexKey } from './index.js';
import { parseManifest, type ManifestEntry } from './manifest.js';
import { hashOutput, type OutputInfo } from './tree.js';
import type { Workspace } from './workspace.js';

export interface CheckoutOptions {
  /** overwrite or delete workspace files whose content is not in the cache */
  force: boolean;
  /** re-create links even where the content already matches */
  relink: boolean;
}

export interface CheckoutSummary {
  added: string[];
  modified: string[];
  unchanged: string[];
  failed: { path: string; reason: string }[];
}

/** The .dvc files named by targets (a .dvc file, its output, or a folder holding them). */
export async function selectDvcFiles(
  ws: Workspace,
  cwd: string,
  targets: readonly string[],
): Promise<DvcFile[]> {
  const all = await ws.readAll();
  if (targets.length === 0) return all;
  return Promise.all(
    targets.map(async (t) => {
      const abs = path.resolve(cwd, t.replace(/[\\/]+$/, '') || t);
      const byFile = all.find((d) => d.file === abs || d.file === `${abs}${DVC_SUFFIX}`);
      if (byFile !== undefined) return [byFile];
      const byOut = all.filter((d) => d.outs.some((o) => outPath(d, o) === abs));
      if (byOut.length > 0) return byOut;
      const inside = all.filter((d) => isInside(abs, d.file));
      if (inside.length > 0 && fs.existsSync(abs) && fs.statSync(abs).isDirectory()) return inside;
      if (abs.endsWith(DVC_SUFFIX) && fs.existsSync(abs)) return [await readDvcFile(abs)];
      throw new CairnError('unknown-target', `${t} is not tracked: no .dvc file names it`, {
        hint: 'Run `cairn status` to see what is tracked, or `cairn add` it first.',
      });
    }),
  ).then((lists) => [...new Set(lists.flat())]);
}

export async function checkoutTargets(
  ws: Workspace,
  cwd: string,
  targets: readonly string[],
  options: CheckoutOptions,
): Promise<CheckoutSummary> {
  const summary: CheckoutSummary = {
    added: [],
    modified: [],
    unchanged: [],
    failed: [],
  };
  for (const dvc of await selectDvcFiles(ws, cwd, targets)) {
    for (const out of dvc.outs) {
      if (out.md5 === undefined || !out.cache) continue;
      await checkoutOutput(ws, outPath(dvc, out), out, options, summary);
    }
  }
  return summary;
}

interface Change {
  rel: string;
  md5: string;
}

async function checkoutOutput(
  ws: Workspace,
  abs: string,
  out: DvcOut,
  options: CheckoutOptions,
  summary: CheckoutSummary,
): Promise<void> {
  const md5 = out.md5 ?? '';
  const rel = ws.rel(abs);
  // Outputs recorded by DVC 2.x (no `hash: md5`) live in the legacy store, hashed dos2unix.
  const legacy = out.hash === undefined;
  const cache = legacy ? legacyLayout(ws.cache) : ws.cache;
  const wanted = await wantedFiles(cache, md5);
  if (wanted === undefined) {
    summary.failed.push({ path: rel, reason: `${md5} is not in the cache` });
    return;
  }
  const missing = wanted.filter((e) => !hasObjectSync(cache, e.md5));
  if (missing.length > 0) {
    summary.failed.push({
      path: rel,
      reason: `${missing.length} file(s) missing from the cache, e.g. ${missing[0]?.relpath ?? ''} (${missing[0]?.md5 ?? ''})`,
    });
    return;
  }
  const isDir = isDirMd5(md5 as never);
  const current = await currentFiles(ws, abs, isDir, legacy);
  if (current.md5 === md5 && !options.relink) {
    summary.unchanged.push(rel);
    return;
  }

  const wantedByRel = new Map(wanted.map((e) => [e.relpath, e.md5]));
  const place: Change[] = [];
  const remove: string[] = [];
  const unsaved: string[] = [];
  for (const e of wanted) {
    const have = current.files.get(e.relpath);
    if (have === e.md5 && !options.relink) continue;
    if (have !== undefined && have !== e.md5 && !hasObjectSync(cache, have))
      unsaved.push(e.relpath);
    place.push({ rel: e.relpath, md5: e.md5 });
  }
  for (const [fileRel, have] of current.files) {
    if (wantedByRel.has(fileRel)) continue;
    if (!hasObjectSync(cache, have)) unsaved.push(fileRel);
    remove.push(fileRel);
  }
  if (unsaved.length > 0 && !options.force) {
    const shown = unsaved.slice(0, 5).map((r) => (r === '' ? rel : `${rel}/${r}`));
    throw new CairnError(
      'checkout-would-lose-data',
      `Checking out ${rel} would overwrite or delete ${unsaved.length} file(s) whose content is not in the cache: ${shown.join(', ')}${unsaved.length > 5 ? ', …' : ''}`,
      {
        hint: `Save them first with \`cairn add ${rel}\` (or \`cairn commit\`), or discard them with \`cairn checkout --force ${rel}\`.`,
      },
    );
  }

  const type = chooseLinkType(ws.cache, ws.stagingDir, ws.repo.config.cache.type);
  if (current.kind === 'file' && isDir) await fsp.rm(abs, { force: true });
  if (current.kind === 'dir' && !isDir) await fsp.rm(abs, { recursive: true, force: true });
  let done = 0;
  for (const change of place) {
    const dest = change.rel === '' ? abs : path.join(abs, change.rel);
    const st = await fsp.lstat(dest).catch(() => undefined);
    if (st?.isDirectory()) await fsp.rm(dest, { recursive: true, force: true });
    if (st === undefined || !alreadyLinked(cache, change.md5, dest, type, st) || options.relink) {
      await placeObject(
        cache,
        change.md5,
        dest,
        type,
        ws.stagingDir,
        change.rel === '' && out.isexec,
      );
    }
    done += 1;
    ws.sink({ type: 'progress', phase: 'checkout', done, total: place.length });
  }
  for (const fileRel of remove) {
    await fsp.rm(path.join(abs, fileRel), { force: true });
  }
  if (isDir)
    await removeEmptyDirs(abs, new Set(wanted.map((e) => path.dirname(path.join(abs, e.relpath)))));

  const known = new Map(wanted.map((e) => [e.relpath, e.md5]));
  await hashOutput(ws, abs, { store: false, known, legacy });
  if (current.kind === 'missing') summary.added.push(rel);
  else summary.modified.push(rel);
}

/** The files an output should have: one entry with relpath '' for a file output. */
async function wantedFiles(cache: CacheLayout, md5: string): Promise<ManifestEntry[] | undefined> {
  if (!isDirMd5(md5 as never)) return [{ relpath: '', md5 }];
  const bytes = await readObject(cache, md5);
  if (bytes === undefined) return undefined;
  return parseManifest(bytes, objectPath(cache, md5));
}

interface CurrentState {
  kind: 'missing' | 'file' | 'dir';
  md5: string | undefined;
  /** md5 of each workspace file, keyed like manifest relpaths */
  files: Map<string, string>;
}

async function currentFiles(
  ws: Workspace,
  abs: string,
  wantDir: boolean,
  legacy: boolean,
): Promise<CurrentState> {
  const st = await fsp.stat(abs).catch(() => undefined);
  if (st === undefined) return { kind: 'missing', md5: undefined, files: new Map() };
  const info = await hashOutput(ws, abs, { store: false, legacy });
  if (info.kind === 'file') {
    return {
      kind: 'file',
      md5: info.md5,
      files: wantDir ? new Map([[path.basename(abs), info.md5]]) : new Map([['', info.md5]]),
    };
  }
  const snapshot = ws.index.load(indexKey(ws.rel(abs), legacy));
  const files = new Map<string, string>();
  if (snapshot !== undefined) for (const [rel, f] of snapshot.files) files.set(rel, f.md5);
  return { kind: 'dir', md5: info.md5, files: wantDir ? files : new Map([['', info.md5]]) };
}

async function removeEmptyDirs(root: string, keep: Set<string>): Promise<void> {
  const walk = async (dir: string): Promise<boolean> => {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    let empty = true;
    for (const e of entries) {
      if (e.isDirectory()) {
        const child = path.join(dir, e.name);
        if (await walk(child)) {
          if (!keep.has(child)) await fsp.rmdir(child).catch(() => undefined);
          else empty = false;
        } else empty = false;
      } else empty = false;
    }
    return empty;
  };
  await walk(root);
}

/** After `add`: with hardlink or symlink caches the workspace points into the cache. */
export async function linkOutput(ws: Workspace, abs: string, info: OutputInfo): Promise<void> {
  const type = chooseLinkType(ws.cache, ws.stagingDir, ws.repo.config.cache.type);
  if (type === 'copy' || type === 'reflink') return;
  const out: DvcOut = {
    path: abs,
    md5: info.md5,
    size: info.size,
    nfiles: info.nfiles,
    isexec: info.isexec === true,
    hash: 'md5',
    cache: true,
    extra: [],
    line: 0,
  };
  const summary: CheckoutSummary = {
    added: [],
    modified: [],
    unchanged: [],
    failed: [],
  };
  await checkoutOutput(ws, abs, out, { force: false, relink: true }, summary);
}
