/**
 * dvc.lock (schema '2.0'): read, including DVC 2.x entries (no `hash:` key, md5-dos2unix), and
 * written byte for byte as DVC 3 writes it — stage keys `cmd, deps, params, outs`, items
 * `path, hash, md5, size, nfiles, isexec` sorted by path, params.yaml first.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import {
  isMap,
  isScalar,
  newLineCounter,
  parseDocument,
  type Node,
  yamlMessage,
} from '../core/yaml-lib.js';
import { ManifestError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs.js';
import { compareCodePoints } from '../core/python-json.js';
import { dumpYaml, type YamlValue } from '../core/ruamel-yaml.js';
import { recall, remember, stampOf } from './memo.js';
import { DEFAULT_PARAMS_FILE } from './stage-fields.js';
import { isValueMap, nodeToValue, toYaml, type Value, type ValueMap } from './values.js';

export interface LockItem {
  path: string;
  /** 'md5' for DVC 3 entries; undefined for a 2.x entry (md5-dos2unix, legacy cache) */
  hash: 'md5' | undefined;
  md5: string | undefined;
  size: number | undefined;
  nfiles: number | undefined;
  isexec: boolean;
}

export interface LockEntry {
  cmd: string | string[];
  /** sorted by path */
  deps: LockItem[];
  /** file → key → value; params.yaml first, then files sorted, keys sorted */
  params: Map<string, ValueMap>;
  /** outs, metrics and plots together, sorted by path */
  outs: LockItem[];
}

export type LockFile = Map<string, LockEntry>;

/** Reads a dvc.lock (missing: empty); with `tmpDir`, through the parsed-file memo. */
export function readLockFile(file: string, display = file, tmpDir?: string): LockFile {
  const stamp = stampOf(file);
  if (stamp === '-') return new Map();
  if (tmpDir !== undefined) {
    const known = recall(tmpDir, 'lock', file) as [string, LockEntry, string][] | undefined;
    if (known !== undefined) {
      for (const [, entry, digest] of known)
        if (typeof digest === 'string') digests.set(entry, digest);
      return new Map(known.map(([name, entry]) => [name, entry]));
    }
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return new Map();
  }
  const lock = parseLockFile(display, text);
  if (tmpDir !== undefined) rememberLock(tmpDir, file, stamp, lock);
  return lock;
}

export function rememberLock(tmpDir: string, file: string, stamp: string, lock: LockFile): void {
  remember(
    tmpDir,
    'lock',
    file,
    [[file, stamp]],
    [...lock].map(([name, entry]) => [name, entry, entryDigest(entry)]),
  );
}

const digests = new WeakMap<LockEntry, string>();

/** An md5 of the entry's content (memoised with the parsed lock), for change fingerprints. */
export function entryDigest(entry: LockEntry): string {
  let d = digests.get(entry);
  if (d === undefined) {
    d = createHash('md5')
      .update(JSON.stringify([entry.cmd, entry.deps, [...entry.params], entry.outs]))
      .digest('hex');
    digests.set(entry, d);
  }
  return d;
}

export function parseLockFile(file: string, text: string): LockFile {
  const lines = newLineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const fail = (node: Node | null | undefined, message: string): never => {
    const p = lines.linePos(node?.range?.[0] ?? 0);
    throw new ManifestError(file, p.line, p.col, message, {
      hint: 'Restore dvc.lock from git, or delete it and run `cairn repro` to rebuild it.',
    });
  };
  const err = doc.errors[0];
  if (err !== undefined) {
    const p = lines.linePos(err.pos[0]);
    throw new ManifestError(file, p.line, p.col, yamlMessage(err.message));
  }
  const result: LockFile = new Map();
  const root = doc.contents as Node | null;
  if (root === null) return result;
  if (!isMap(root)) return fail(root, 'dvc.lock must be a mapping');
  const stagesPair = root.items.find((p) => isScalar(p.key) && p.key.value === 'stages');
  const stagesNode = stagesPair?.value as Node | null | undefined;
  if (stagesNode === undefined || stagesNode === null) return result;
  if (!isMap(stagesNode)) return fail(stagesNode, '`stages` must be a mapping');
  for (const pair of stagesNode.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    const v = nodeToValue(pair.value as Node | null, text);
    if (!isValueMap(v)) return fail(pair.value as Node, `lock entry '${name}' must be a mapping`);
    const cmd = v.cmd;
    const entry: LockEntry = {
      cmd: Array.isArray(cmd) ? cmd.map(String) : typeof cmd === 'string' ? cmd : '',
      deps: items(v.deps),
      params: new Map(),
      outs: items(v.outs),
    };
    if (isValueMap(v.params ?? null)) {
      for (const [f, kv] of Object.entries(v.params as ValueMap))
        entry.params.set(f, isValueMap(kv) ? kv : {});
    }
    result.set(name, entry);
  }
  return result;
}

function items(v: Value | undefined): LockItem[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isValueMap).map((m) => ({
    path: typeof m.path === 'string' ? m.path : '',
    hash: m.hash === 'md5' ? 'md5' : undefined,
    md5: typeof m.md5 === 'string' ? m.md5 : undefined,
    size: typeof m.size === 'number' ? m.size : undefined,
    nfiles: typeof m.nfiles === 'number' ? m.nfiles : undefined,
    isexec: m.isexec === true,
  }));
}

function itemValue(i: LockItem): Map<string, YamlValue> {
  const m = new Map<string, YamlValue>([['path', i.path]]);
  if (i.hash !== undefined) m.set('hash', i.hash);
  if (i.md5 !== undefined) m.set('md5', i.md5);
  if (i.size !== undefined) m.set('size', i.size);
  if (i.nfiles !== undefined) m.set('nfiles', i.nfiles);
  if (i.isexec) m.set('isexec', true);
  return m;
}

const byPath = (a: LockItem, b: LockItem): number => compareCodePoints(a.path, b.path);

/**
 * Params as DVC's `_serialize_params_values` orders them: params.yaml first, then the other
 * files sorted, each file's keys sorted (Maps, so that integer-like keys keep that order).
 */
export function sortParams(params: Map<string, ValueMap>): Map<string, Map<string, Value>> {
  const files = [...params.keys()].sort(compareCodePoints);
  const ordered = [
    ...files.filter((f) => f === DEFAULT_PARAMS_FILE),
    ...files.filter((f) => f !== DEFAULT_PARAMS_FILE),
  ];
  return new Map(
    ordered.map((f) => {
      const kv = params.get(f) ?? {};
      const keys = Object.keys(kv).sort(compareCodePoints);
      return [f, new Map(keys.map((k) => [k, kv[k] ?? null]))];
    }),
  );
}

/** The entry as DVC's `to_single_stage_lockfile` orders it (also the run-cache's input). */
export function entryValue(e: LockEntry): Map<string, YamlValue> {
  const m = new Map<string, YamlValue>([['cmd', e.cmd]]);
  if (e.deps.length > 0) m.set('deps', [...e.deps].sort(byPath).map(itemValue));
  if (e.params.size > 0) {
    const params = new Map<string, YamlValue>();
    for (const [f, kv] of sortParams(e.params)) {
      const yamlKv = new Map<string, YamlValue>();
      for (const [k, v] of kv) yamlKv.set(k, toYaml(v));
      params.set(f, yamlKv);
    }
    m.set('params', params);
  }
  if (e.outs.length > 0) m.set('outs', [...e.outs].sort(byPath).map(itemValue));
  return m;
}

const entryText = new WeakMap<LockEntry, Map<string, string>>();

/**
 * The whole file. Each stage's block is dumped as `stages: {name: entry}` minus its first line
 * (the same bytes ruamel writes for it inside the full document) and memoised, so rewriting a
 * lock of 1,000 stages after each stage costs one stage's dump.
 */
export function serializeLockFile(lock: LockFile): string {
  if (lock.size === 0)
    return dumpYaml(
      new Map<string, YamlValue>([
        ['schema', '2.0'],
        ['stages', new Map()],
      ]),
    );
  let text = "schema: '2.0'\nstages:\n";
  for (const [name, entry] of lock) {
    let byName = entryText.get(entry);
    if (byName === undefined) {
      byName = new Map();
      entryText.set(entry, byName);
    }
    let block = byName.get(name);
    if (block === undefined) {
      const doc = dumpYaml(
        new Map<string, YamlValue>([['stages', new Map([[name, entryValue(entry)]])]]),
      );
      block = doc.slice(doc.indexOf('\n') + 1);
      byName.set(name, block);
    }
    text += block;
  }
  return text;
}

/** Writes the file only when its text changes; returns whether it did. */
export async function writeLockFile(file: string, lock: LockFile): Promise<boolean> {
  const text = serializeLockFile(lock);
  let current: string | undefined;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) return false;
  await writeFileAtomic(file, text);
  return true;
}
