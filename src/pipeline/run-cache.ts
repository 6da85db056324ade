/**
 * DVC's run-cache: `runs/<key[:2]>/<key>/<value>` under the cache, where key and value are
 * SHA-256s of the stage's lock entry as DVC computes them (§1.6), and the file holds that entry
 * as YAML. A hit lets repro restore the outputs instead of running the command.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { compareCodePoints, PyFloat, pythonJsonDumps, type PyJson } from '../core/python-json.js';
import { dumpYaml } from '../core/ruamel-yaml.js';
import { tempSibling } from '../core/fs.js';
import { entryValue, parseLockFile, type LockEntry, type LockItem } from './lockfile.js';
import { isCallback, type Stage } from './stage.js';
import { toPyJson } from './values.js';

const EXCLUDED = new Set(['size', 'nfiles']);

function itemJson(i: LockItem): Record<string, PyJson> {
  const o: Record<string, PyJson> = { path: i.path };
  if (i.hash !== undefined) o.hash = i.hash;
  if (i.md5 !== undefined) o.md5 = i.md5;
  if (i.isexec) o.isexec = true;
  return o;
}

function entryJson(e: LockEntry, outsAsPaths: boolean): Record<string, PyJson> {
  const o: Record<string, PyJson> = { cmd: e.cmd };
  if (e.deps.length > 0) o.deps = e.deps.map(itemJson);
  if (e.params.size > 0) {
    const params: Record<string, PyJson> = {};
    for (const [f, kv] of e.params) params[f] = toPyJson(kv);
    o.params = params;
  }
  if (e.outs.length > 0) o.outs = outsAsPaths ? e.outs.map((x) => x.path) : e.outs.map(itemJson);
  return o;
}

function filtered(v: PyJson): PyJson {
  if (Array.isArray(v)) return v.map(filtered);
  if (v !== null && typeof v === 'object' && !(v instanceof PyFloat)) {
    const out: Record<string, PyJson> = {};
    for (const [k, x] of Object.entries(v as Record<string, PyJson>))
      if (!EXCLUDED.has(k)) out[k] = filtered(x);
    return out;
  }
  return v;
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/** `_get_cache_hash(entry, key=True)`: outs reduced to paths; size and nfiles dropped. */
export function runCacheKey(entry: LockEntry): string {
  return sha256(pythonJsonDumps(filtered(entryJson(sorted(entry), true))));
}

/** `_get_cache_hash(entry)`: the full entry without size and nfiles. */
export function runCacheValue(entry: LockEntry): string {
  return sha256(pythonJsonDumps(filtered(entryJson(sorted(entry), false))));
}

function sorted(e: LockEntry): LockEntry {
  const by = (a: LockItem, b: LockItem): number => compareCodePoints(a.path, b.path);
  return { ...e, deps: [...e.deps].sort(by), outs: [...e.outs].sort(by) };
}

/** DVC's `_can_hash` plus the output conditions of `_get_stage_hash`. */
export function runCacheUsable(stage: Stage): boolean {
  if (stage.alwaysChanged || isCallback(stage)) return false;
  if (stage.deps.length + stage.params.length === 0 || stage.outs.length === 0) return false;
  return stage.outs.every((o) => !o.persist);
}

export function runCacheDir(cacheDir: string): string {
  return path.join(cacheDir, 'runs');
}

/** The newest stored entry for this key, or undefined. */
export function lookupRun(cacheDir: string, key: string): LockEntry | undefined {
  const dir = path.join(runCacheDir(cacheDir), key.slice(0, 2), key);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return undefined;
  }
  const withTime = names
    .map((n) => ({ n, t: fs.statSync(path.join(dir, n)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const { n } of withTime) {
    try {
      const lock = parseLockFile(
        path.join(dir, n),
        `stages:\n  s:\n${indent(fs.readFileSync(path.join(dir, n), 'utf8'))}`,
      );
      const entry = lock.get('s');
      if (entry !== undefined && runCacheValue(entry) === n) return entry;
    } catch {
      // a corrupt entry is skipped, as DVC does
    }
  }
  return undefined;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : `    ${l}`))
    .join('\n');
}

/** Saves an entry (temp file + rename); an existing identical entry is left alone. */
export async function saveRun(cacheDir: string, entry: LockEntry): Promise<void> {
  const key = runCacheKey(entry);
  const value = runCacheValue(entry);
  const file = path.join(runCacheDir(cacheDir), key.slice(0, 2), key, value);
  if (fs.existsSync(file)) return;
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempSibling(file);
  await fsp.writeFile(tmp, dumpYaml(entryValue(sorted(entry))));
  await fsp.rename(tmp, file);
}
