/**
 * `.dvc` files written by `dvc add` (DVC's single-stage schema): parsed with positions so every
 * problem is reported at file:line:col, and written back byte-for-byte as DVC 3 writes them.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { LineCounter, Node } from 'yaml';
import { isMap, isScalar, isSeq, newLineCounter, parseDocument } from '../core/yaml-lib.js';
import { parseMd5, type Md5Hex } from '../core/digest.js';
import { ManifestError, errnoCode } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs.js';
import { dumpYaml, type YamlValue } from '../core/ruamel-yaml.js';

export const DVC_SUFFIX = '.dvc';

export interface DvcOut {
  /** as written: relative to the .dvc file's folder (and its wdir), POSIX */
  path: string;
  md5: Md5Hex | undefined;
  size: number | undefined;
  nfiles: number | undefined;
  isexec: boolean;
  /** 'md5' for DVC 3; undefined means a 2.x entry hashed with md5-dos2unix */
  hash: 'md5' | undefined;
  cache: boolean;
  /** keys we do not interpret (desc, meta, remote, push, …), kept in order on rewrite */
  extra: [string, unknown][];
  /** 1-based line of the `- ` item, for messages */
  line: number;
}

export interface DvcFile {
  /** absolute path of the .dvc file */
  file: string;
  outs: DvcOut[];
  /** wdir relative to the file's folder, '.' when absent */
  wdir: string;
  /** top-level keys other than outs/wdir, kept as they were */
  extra: [string, unknown][];
}

const OUT_KEYS = new Set(['path', 'md5', 'size', 'nfiles', 'isexec', 'hash', 'cache']);

export async function readDvcFile(file: string): Promise<DvcFile> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new ManifestError(file, 1, 1, 'file not found', {
        hint: 'Check the path, or run `cairn add` for the data first.',
      });
    }
    throw error;
  }
  return parseDvcFile(file, text);
}

export function parseDvcFile(file: string, text: string): DvcFile {
  return _parseCanonical(file, text) ?? _parseWithPositions(file, text);
}

/** One output exactly as `dvc add` writes it, with a path no YAML resolver would retype. */
const CANONICAL_OUT = new RegExp(
  [
    '^- md5: ([0-9a-f]{32}(?:\\.dir)?)\n',
    '  size: (\\d+)\n',
    '(?:  nfiles: (\\d+)\n)?',
    '(  isexec: true\n)?',
    '  hash: md5\n',
    '  path: ([A-Za-z_][\\w./-]*)\n',
  ].join(''),
);
const RETYPED = /^(?:true|false|null)$/i;

/**
 * The files DVC and Cairn write have one shape; reading them without a YAML parser keeps
 * `cairn status` from loading one. Anything else goes through {@link _parseWithPositions}.
 */
export function _parseCanonical(file: string, text: string): DvcFile | undefined {
  if (!text.startsWith('outs:\n')) return undefined;
  const outs: DvcOut[] = [];
  let rest = text.slice('outs:\n'.length);
  let line = 2;
  while (rest !== '') {
    const m = CANONICAL_OUT.exec(rest);
    if (m === null) return undefined;
    const [whole, md5, size, nfiles, isexec, outPathText] = m;
    if (outPathText === undefined || RETYPED.test(outPathText)) return undefined;
    outs.push({
      path: outPathText,
      md5: parseMd5(md5 ?? ''),
      size: Number(size),
      nfiles: nfiles === undefined ? undefined : Number(nfiles),
      isexec: isexec !== undefined,
      hash: 'md5',
      cache: true,
      extra: [],
      line,
    });
    line += whole.split('\n').length - 1;
    rest = rest.slice(whole.length);
  }
  return outs.length === 0 ? undefined : { file, outs, wdir: '.', extra: [] };
}

export function _parseWithPositions(file: string, text: string): DvcFile {
  const lines = newLineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const fail = (node: Node | null | undefined, message: string, hint?: string): never => {
    const pos = lines.linePos(node?.range?.[0] ?? 0);
    throw new ManifestError(file, pos.line, pos.col, message, hint === undefined ? {} : { hint });
  };
  const err = doc.errors[0];
  if (err !== undefined) {
    const pos = lines.linePos(err.pos[0]);
    throw new ManifestError(file, pos.line, pos.col, err.message.split('\n')[0] ?? 'invalid YAML', {
      hint: 'Fix the YAML syntax, or restore the file from git (`git checkout -- <file>`).',
    });
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(root, 'expected a mapping with an `outs` list');
  const result: DvcFile = { file, outs: [], wdir: '.', extra: [] };
  let sawOuts = false;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const value = pair.value as Node | null;
    if (key === 'outs') {
      sawOuts = true;
      if (!isSeq(value)) return fail(value ?? pair.key, '`outs` must be a list');
      for (const item of value.items as (Node | null)[])
        result.outs.push(parseOut(item, fail, lines));
    } else if (key === 'wdir') {
      if (!isScalar(value) || typeof value.value !== 'string')
        return fail(value, '`wdir` must be a path');
      result.wdir = value.value;
    } else {
      result.extra.push([key, (value as { toJSON?: () => unknown } | null)?.toJSON?.() ?? null]);
    }
  }
  if (!sawOuts)
    return fail(root, 'missing `outs`', 'A .dvc file lists what it tracks under `outs:`.');
  return result;
}

function parseOut(
  node: Node | null,
  fail: (node: Node | null | undefined, message: string, hint?: string) => never,
  lines: LineCounter,
): DvcOut {
  if (!isMap(node)) return fail(node, 'each entry of `outs` must be a mapping with a `path`');
  const out: DvcOut = {
    path: '',
    md5: undefined,
    size: undefined,
    nfiles: undefined,
    isexec: false,
    hash: undefined,
    cache: true,
    extra: [],
    line: lines.linePos(node.range?.[0] ?? 0).line,
  };
  let sawPath = false;
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const v = pair.value as Node | null;
    const scalar = isScalar(v) ? v.value : undefined;
    switch (key) {
      case 'path':
        if (typeof scalar !== 'string' || scalar === '')
          return fail(v, '`path` must be a non-empty string');
        out.path = scalar;
        sawPath = true;
        break;
      case 'md5': {
        const md5 = typeof scalar === 'string' ? parseMd5(scalar) : undefined;
        if (md5 === undefined) {
          return fail(
            v,
            `malformed md5 '${String(scalar)}': expected 32 lowercase hex digits, with '.dir' for a directory`,
            'Restore the file from git, or run `cairn add` on the data again to rewrite it.',
          );
        }
        out.md5 = md5;
        break;
      }
      case 'size':
      case 'nfiles':
        if (typeof scalar !== 'number' || !Number.isInteger(scalar) || scalar < 0) {
          return fail(
            v,
            `\`${key}\` must be a whole number of ${key === 'size' ? 'bytes' : 'files'}`,
          );
        }
        out[key] = scalar;
        break;
      case 'isexec':
      case 'cache':
        if (typeof scalar !== 'boolean') return fail(v, `\`${key}\` must be true or false`);
        out[key] = scalar;
        break;
      case 'hash':
        if (scalar !== 'md5')
          return fail(v, `unsupported hash '${String(scalar)}': Cairn and DVC 3 use md5`);
        out.hash = 'md5';
        break;
      default:
        if (OUT_KEYS.has(key)) break;
        out.extra.push([key, (v as { toJSON?: () => unknown } | null)?.toJSON?.() ?? null]);
    }
  }
  if (!sawPath) return fail(node, 'output has no `path`');
  return out;
}

/** The text DVC 3 writes: `md5, size, nfiles, isexec, hash, path`, then annotations and flags. */
export function serializeDvcFile(dvc: DvcFile): string {
  const outs = dvc.outs.map((o) => {
    const item: Record<string, YamlValue> = {};
    if (o.md5 !== undefined) item.md5 = o.md5;
    if (o.size !== undefined) item.size = o.size;
    if (o.nfiles !== undefined) item.nfiles = o.nfiles;
    if (o.isexec) item.isexec = true;
    if (o.hash !== undefined) item.hash = o.hash;
    item.path = o.path;
    for (const [k, v] of o.extra) item[k] = v as YamlValue;
    if (!o.cache) item.cache = false;
    return item;
  });
  const doc: Record<string, YamlValue> = {};
  for (const [k, v] of dvc.extra.filter(([k]) => k !== 'md5' && k !== 'frozen' && k !== 'deps'))
    doc[k] = v as YamlValue;
  for (const [k, v] of dvc.extra.filter(([k]) => k === 'md5' || k === 'frozen' || k === 'deps'))
    doc[k] = v as YamlValue;
  doc.outs = outs;
  if (dvc.wdir !== '.') doc.wdir = dvc.wdir;
  return dumpYaml(doc);
}

export async function writeDvcFile(dvc: DvcFile): Promise<boolean> {
  const text = serializeDvcFile(dvc);
  let current: string | undefined;
  try {
    current = await fsp.readFile(dvc.file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) return false;
  await writeFileAtomic(dvc.file, text);
  return true;
}

/** Absolute path of an output of a .dvc file. */
export function outPath(dvc: DvcFile, out: DvcOut): string {
  return path.resolve(path.dirname(dvc.file), dvc.wdir, out.path);
}
