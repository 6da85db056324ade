/**
 * Whether a stage changed, in DVC's vocabulary (`changed deps`, `changed outs`, `always
 * changed`, `changed command`), comparing the workspace with the stage's dvc.lock entry.
 * Legacy 2.x lock items are compared with md5-dos2unix so old repos do not show as modified.
 */
import fs from 'node:fs';
import path from 'node:path';
import { toPosix } from '../core/fs.js';
import { legacyLayout, objectPath, readEpochSync } from '../data/cache.js';
import { StatusMemo } from './status-memo.js';
import { parseManifest } from '../data/manifest.js';
import { trusted } from '../data/index.js';
import { hashOutput, type OutputInfo } from '../data/tree.js';
import { parseMd5 } from '../core/digest.js';
import type { Workspace } from '../data/workspace.js';
import { readLockFile, type LockEntry, type LockFile, type LockItem } from './lockfile.js';
import { lookupParam, readParamsFile } from './params.js';
import { isCallback, type Stage, type StageParams } from './stage.js';
import { valuesEqual, type ValueMap } from './values.js';

export type StatusItem =
  | { 'changed deps': Record<string, string | Record<string, string>> }
  | { 'changed outs': Record<string, string> }
  | 'always changed'
  | 'changed command';

/** `dvc status --json` for pipelines: stage address → what changed. */
export type PipelineStatusReport = Record<string, StatusItem[]>;

export interface CheckOptions {
  /** status paths are shown relative to this folder */
  cwd: string;
  /** ignore missing outputs and not-in-cache (CI without data) */
  allowMissing?: boolean;
  /** deps another stage produces: `deleted` is ignored with allowMissing */
  produced?: (abs: string) => boolean;
}

/**
 * The current lock item of a path: hashed with the stat index, or kept in its legacy form when
 * the lock recorded a 2.x hash that still matches. undefined when the path is missing.
 */
export async function currentItem(
  ws: Workspace,
  abs: string,
  written: string,
  previous: LockItem | undefined,
  store: boolean,
): Promise<LockItem | undefined> {
  const st = fs.statSync(abs, { throwIfNoEntry: false });
  if (st === undefined) return undefined;
  const info =
    (!store && st.isFile() ? indexedFile(ws, abs, st) : undefined) ??
    (await hashOutput(ws, abs, { store }));
  const item: LockItem = {
    path: written,
    hash: 'md5',
    md5: info.md5,
    size: info.size,
    nfiles: info.nfiles,
    isexec: info.isexec === true,
  };
  if (
    previous !== undefined &&
    previous.hash === undefined &&
    previous.md5 !== undefined &&
    previous.md5 !== info.md5 &&
    (await hashOutput(ws, abs, { store: false, legacy: true })).md5 === previous.md5
  ) {
    // A 2.x record that still matches keeps its form, as DVC keeps it until the data changes.
    return { ...previous, path: written };
  }
  return item;
}

/**
 * A file's md5 straight from the stat index when its stat still matches: `hashOutput` would
 * answer the same but rewrites the snapshot, which a no-op over 1,000 stages cannot afford.
 */
function indexedFile(
  ws: Workspace,
  abs: string,
  st: fs.Stats,
): Pick<OutputInfo, 'md5' | 'size' | 'nfiles' | 'isexec'> | undefined {
  const snap = ws.index.load(ws.rel(abs));
  if (snap?.header.kind !== 'file') return undefined;
  const f = snap.files.get('');
  if (!trusted(f, st.ino, st.mtimeMs, st.size)) return undefined;
  const md5 = parseMd5(snap.header.md5);
  if (md5 === undefined) return undefined;
  return (st.mode & 0o111) !== 0 ? { md5, size: st.size, isexec: true } : { md5, size: st.size };
}

/** Reads the tracked values of a params dependency; missing keys are left out. */
export function paramValues(p: StageParams): { values: ValueMap; missing: string[] } | undefined {
  const data = readParamsFile(p.abs);
  if (data === undefined) return undefined;
  if (p.keys === null) return { values: data, missing: [] };
  const values: ValueMap = {};
  const missing: string[] = [];
  for (const k of p.keys) {
    const v = lookupParam(data, k);
    if (v === undefined) missing.push(k);
    else values[k] = v;
  }
  return { values, missing };
}

const same = (a: LockItem | undefined, b: LockItem | undefined): boolean =>
  a !== undefined && b !== undefined && a.md5 === b.md5;

/** One stat: is the output's object (file or `.dir` manifest) in the cache? */
export function topObjectCached(ws: Workspace, item: LockItem): boolean {
  if (item.md5 === undefined) return false;
  return fs.existsSync(
    objectPath(item.hash === undefined ? legacyLayout(ws.cache) : ws.cache, item.md5),
  );
}

export function inCache(ws: Workspace, item: LockItem): boolean {
  if (item.md5 === undefined) return false;
  const where = (md5: string): string =>
    objectPath(item.hash === undefined ? legacyLayout(ws.cache) : ws.cache, md5);
  const top = where(item.md5);
  if (!fs.existsSync(top)) return false;
  if (!item.md5.endsWith('.dir')) return true;
  try {
    return parseManifest(fs.readFileSync(top), top).every((e) => fs.existsSync(where(e.md5)));
  } catch {
    return false;
  }
}

export async function stageStatus(
  ws: Workspace,
  stage: Stage,
  lock: LockEntry | undefined,
  options: CheckOptions,
): Promise<StatusItem[]> {
  const shown = (abs: string): string => toPosix(path.relative(options.cwd, abs)) || '.';
  const result: StatusItem[] = [];
  if (!stage.frozen) {
    const deps: Record<string, string | Record<string, string>> = {};
    for (const dep of stage.deps) {
      const previous = lock?.deps.find((d) => d.path === dep.path);
      const now = await currentItem(ws, dep.abs, dep.path, previous, false);
      if (now === undefined) {
        if (options.allowMissing === true && options.produced?.(dep.abs) === true) continue;
        deps[shown(dep.abs)] = 'deleted';
      } else if (!same(now, previous)) deps[shown(dep.abs)] = 'modified';
    }
    for (const p of stage.params) {
      const current = paramValues(p);
      const recorded = lock?.params.get(p.path);
      const name = shown(p.abs);
      if (current === undefined) deps[name] = 'deleted';
      else if (recorded === undefined) deps[name] = 'new';
      else {
        const keys = p.keys ?? [
          ...new Set([...Object.keys(current.values), ...Object.keys(recorded)]),
        ];
        const changed: Record<string, string> = {};
        for (const k of keys) {
          if (!(k in current.values)) changed[k] = 'deleted';
          else if (!(k in recorded)) changed[k] = 'new';
          else if (!valuesEqual(current.values[k], recorded[k])) changed[k] = 'modified';
        }
        if (Object.keys(changed).length > 0) deps[name] = changed;
      }
    }
    if (Object.keys(deps).length > 0) result.push({ 'changed deps': deps });
  }
  const outs: Record<string, string> = {};
  for (const out of stage.outs) {
    const previous = lock?.outs.find((o) => o.path === out.path);
    const name = shown(out.abs);
    if (previous?.md5 !== undefined && out.cache && !inCache(ws, previous)) {
      if (options.allowMissing !== true) outs[name] = 'not in cache';
      continue;
    }
    const now = await currentItem(ws, out.abs, out.path, previous, false);
    if (now === undefined) {
      if (options.allowMissing !== true || previous === undefined) outs[name] = 'deleted';
    } else if (!same(now, previous)) outs[name] = 'modified';
  }
  if (Object.keys(outs).length > 0) result.push({ 'changed outs': outs });
  if (stage.alwaysChanged || isCallback(stage)) result.push('always changed');
  if (lock !== undefined && JSON.stringify(lock.cmd) !== JSON.stringify(stage.cmd))
    result.push('changed command');
  return result;
}

/** Locks read once per command, by dvc.lock path. */
export class LockCache {
  readonly #files = new Map<string, LockFile>();
  constructor(readonly root: string) {}
  entry(stage: Stage): LockEntry | undefined {
    return this.file(stage.lockfile).get(stage.name);
  }
  file(lockfile: string): LockFile {
    let lock = this.#files.get(lockfile);
    if (lock === undefined) {
      lock = readLockFile(
        lockfile,
        toPosix(path.relative(this.root, lockfile)),
        path.join(this.root, '.cairn', 'tmp'),
      );
      this.#files.set(lockfile, lock);
    }
    return lock;
  }
  forget(lockfile: string): void {
    this.#files.delete(lockfile);
  }
}

/**
 * `cairn status` for pipelines: every stage (or the targets that name stages), in graph order.
 * Returns the targets that are not stages, for the data status to handle.
 */
export async function pipelineStatus(
  ws: Workspace,
  cwd: string,
  targets: readonly string[],
): Promise<{ report: PipelineStatusReport; rest: string[] }> {
  const { findDvcYamls, loadProject, resolveTargets } = await import('./project.js');
  if (findDvcYamls(ws.repoRoot).length === 0) return { report: {}, rest: [...targets] };
  const project = loadProject(ws.repoRoot);
  let stages: readonly Stage[] = project.graph.stages;
  const rest: string[] = [];
  if (targets.length > 0) {
    const picked: Stage[] = [];
    for (const t of targets) {
      try {
        picked.push(...resolveTargets(project, cwd, [t]));
      } catch {
        rest.push(t);
      }
    }
    stages = picked;
    if (picked.length === 0) return { report: {}, rest };
  }
  const locks = new LockCache(ws.repoRoot);
  const memo = new StatusMemo(ws.repo.tmpDir);
  const extra = `repro:false:${readEpochSync(ws.cache)}:${ws.cache.dir}`;
  const report: PipelineStatusReport = {};
  for (const stage of stages) {
    const entry = locks.entry(stage);
    const fingerprint = memo.fingerprint(stage, entry, extra, (o) => topObjectCached(ws, o));
    if (memo.isUnchanged(stage.address, fingerprint)) continue;
    const items = await stageStatus(ws, stage, entry, { cwd });
    if (items.length > 0) report[stage.address] = items;
    else memo.set(stage.address, fingerprint);
  }
  memo.save();
  return { report, rest };
}
